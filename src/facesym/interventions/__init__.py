"""Synthetic interventions on facial symmetry (paper Sec. 3.2–3.3): optimised expressions and logit surfaces."""
