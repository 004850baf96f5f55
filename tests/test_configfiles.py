"""Config files that cannot be read are named with their line, in one line, before Snakemake reads them."""

import pytest

from facesym.configfiles import ConfigFileError, configfile_arguments, main, read_config_file


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("seed: 1\nidentities:\n  count: 2\n   shape_dim: 3\n")
    with pytest.raises(ConfigFileError, match=rf"config file '{path}', line 4, column 13: not valid YAML: mapping"):
        read_config_file(path)
    path.write_text("seed: 1\nclassifiers: [a, b\n")
    with pytest.raises(ConfigFileError, match=rf"config file '{path}', line 3, column 1: not valid YAML"):
        read_config_file(path)


def test_empty_missing_and_non_mapping_files_are_named(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigFileError, match=rf"config file '{path}' is empty"):
        read_config_file(path)
    with pytest.raises(ConfigFileError, match=r"config file 'absent.yaml' does not exist \(looked for /"):
        read_config_file("absent.yaml")
    path.write_text("- seed\n- 1\n")
    with pytest.raises(ConfigFileError, match=rf"config file '{path}' holds a list, not a mapping"):
        read_config_file(path)
    path.write_text('{"seed": 1}')  # JSON is YAML
    assert read_config_file(path) == {"seed": 1}


def test_the_configfiles_of_a_snakemake_command_line_are_found():
    argv = ["snakemake", "--cores", "2", "results/table2.csv", "--configfile", "a.yaml", "b.yaml", "-n"]
    assert configfile_arguments(argv) == ["a.yaml", "b.yaml"]
    assert configfile_arguments(["snakemake", "--configfiles=c.yaml", "all", "--configfile", "d.yaml"]) == [
        "c.yaml",
        "d.yaml",
    ]
    assert configfile_arguments(["snakemake", "--config", "seed=1", "--cores", "1"]) == []


def test_main_prints_one_line_per_broken_file(tmp_path, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("seed: 1\n")
    bad.write_text("seed: [1\n")
    assert main(["snakemake", "--configfile", str(good)]) == 0
    assert main(["snakemake", "--configfile", str(good), str(bad), str(tmp_path / "none.yaml")]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and f"'{bad}', line 2" in lines[0] and "none.yaml' does not exist" in lines[1]
