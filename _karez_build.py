"""Build hook: ship the Karez profile (vocab/) inside the package as connector/_vocab."""

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        shutil.copytree(
            Path(__file__).parent / "vocab",
            Path(self.build_lib) / "connector" / "_vocab",
            dirs_exist_ok=True,
        )
