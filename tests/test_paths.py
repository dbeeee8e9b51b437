import os

from analysis.paths import display_path


def test_a_linked_download_keeps_its_name_in_the_project(tmp_path):
    # data/external/<dyad>/x.csv linked to a copy elsewhere (as `make` links the shared fixture):
    # tables name the project's path, not the link's target outside it
    project = tmp_path / "project"
    (project / "analysis").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    (project / "data" / "external" / "d").mkdir(parents=True)
    target = tmp_path / "elsewhere.csv"
    target.write_text("a,b\n")
    os.symlink(target, project / "data" / "external" / "d" / "x.csv")
    assert display_path(project / "data" / "external" / "d" / "x.csv", root=project) == "data/external/d/x.csv"
    # a file outside the project stays as given
    assert display_path(target, root=project) == str(target)
