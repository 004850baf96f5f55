"""Facial properties computed from images (Experiment 1): symmetry between the face halves."""

from facesym.properties.lpips import LPIPS, LPIPSWeightsError, load_lpips
from facesym.properties.symmetry import face_halves, symmetry_lpips, symmetry_ssim

__all__ = ["LPIPS", "LPIPSWeightsError", "face_halves", "load_lpips", "symmetry_lpips", "symmetry_ssim"]
