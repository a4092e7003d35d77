"""Building real Flannel (issue 14): programs per image, the go command, the cache, the
outcome records (built, or exactly why not) and the implementation choice.

A fake ``go`` (a shell script) stands in for the toolchain, so these tests never reach
the module proxy. Facts: real-flannel.md §1a (flanneld: cgo, -X version, binary renamed),
§1b (plugin: exact pre-release tag, never @latest; -X main.*), §1c (plugin per manifest).
"""

from __future__ import annotations

import argparse
import doctest
import importlib
import json
import os
import stat
from pathlib import Path

import pytest

from harness import matrix
from harness.cli import images_cmd
from harness.realflannel import build, resolve
from harness.realflannel.cache import CACHE_ENV, BuildCache, BuildRecord
from harness.realflannel.programs import (
    cni_plugin,
    flanneld,
    manifest_programs,
    program_for_image,
)

# what the module proxy answered here for a refused version (captured verbatim)
REFUSED_MODULE = """\
go: github.com/flannel-io/flannel@v0.27.3: github.com/flannel-io/flannel@v0.27.3: \
reading https://proxy.golang.org/github.com/flannel-io/flannel/@v/v0.27.3.info: \
403 Forbidden
\tserver response: This module version is not available.
"""
REFUSED_DEPENDENCY = """\
go: downloading k8s.io/klog/v2 v2.140.0
/root/.cache/cniscrub/go/mod/github.com/flannel-io/flannel@v0.28.9/pkg/backend/\
tencentvpc/tencentvpc.go:34:2: github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud\
/vpc@v1.3.149: reading https://proxy.golang.org/github.com/tencentcloud/\
tencentcloud-sdk-go/tencentcloud/vpc/@v/v1.3.149.zip: 403 Forbidden
\tserver response: This module version is not available.
"""


@pytest.mark.parametrize(
    "module",
    [
        "harness.realflannel.programs",
        "harness.realflannel.build",
        "harness.realflannel.nodestate",
        "harness.emulation.apiserver.serviceaccounts",
    ],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("image", "target", "path"),
    [
        (
            "docker.io/flannel/flannel:v0.24.4",
            "github.com/flannel-io/flannel@v0.24.4",
            "/opt/bin/flanneld",
        ),
        (
            "ghcr.io/flannel-io/flannel:v0.28.10",
            "github.com/flannel-io/flannel@v0.28.10",
            "/opt/bin/flanneld",
        ),
        (
            "flannel/flannel-cni-plugin:v1.4.0-flannel1",
            "github.com/flannel-io/cni-plugin@v1.4.0-flannel1",
            "/flannel",
        ),
        (
            "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3@sha256:abc",
            "github.com/flannel-io/cni-plugin@v1.9.1-flannel3",
            "/flannel",
        ),
    ],
)
def test_program_for_image(image: str, target: str, path: str) -> None:
    program = program_for_image(image)
    assert program is not None
    assert (program.target, program.image_path) == (target, path)


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/flannel-io/flannel:latest",  # @latest would pick a release, §1b
        "ghcr.io/flannel-io/flannel",
        "docker.io/library/busybox:1.36",
        "ghcr.io/flannel-io/flannel-cni-plugin:main",
    ],
)
def test_images_without_an_exact_flannel_tag_are_not_built(image: str) -> None:
    assert program_for_image(image) is None


@pytest.mark.parametrize("version", matrix.flannel_versions())
def test_each_manifest_names_its_own_plugin_tag(version: str) -> None:
    manifest = matrix.manifest_path(version)
    text = manifest.read_text()
    targets = {p.target for p in manifest_programs(manifest)}
    assert f"github.com/flannel-io/flannel@{version}" in targets
    plugin = next(t for t in targets if "cni-plugin" in t)
    assert f"flannel-cni-plugin:{plugin.split('@')[1]}" in text


def test_manifest_programs_of_a_user_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "my.yml"
    manifest.write_text(
        "kind: ConfigMap\n---\nkind: DaemonSet\nspec:\n  template:\n    spec:\n"
        "      initContainers:\n"
        "      - image: registry.example/flannel/flannel-cni-plugin:v1.8.0-flannel1\n"
        "      containers:\n      - image: registry.example/flannel/flannel:v0.27.4\n"
    )
    assert [p.target for p in manifest_programs(manifest)] == [
        "github.com/flannel-io/flannel@v0.27.4",
        "github.com/flannel-io/cni-plugin@v1.8.0-flannel1",
    ]
    (tmp_path / "none.yml").write_text("kind: DaemonSet\n")
    with pytest.raises(ValueError, match="no flannel"):
        manifest_programs(tmp_path / "none.yml")


def test_go_command_pins_the_tag_and_upstream_version_flags() -> None:
    assert build.go_argv("go", flanneld("v0.27.3"), jobs=1) == [
        "go",
        "install",
        "-v",
        "-p",
        "1",
        "-ldflags",
        "-X github.com/flannel-io/flannel/pkg/version.Version=v0.27.3",
        "github.com/flannel-io/flannel@v0.27.3",
    ]
    argv = build.go_argv("go", cni_plugin("v1.7.1-flannel1"))
    assert argv[-2:] == [
        "-X main.Program=flannel -X main.Version=v1.7.1-flannel1",
        "github.com/flannel-io/cni-plugin@v1.7.1-flannel1",
    ]
    assert not any("latest" in a for a in argv)


def test_go_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLANNELD_IFACE", "eth9")
    cache = BuildCache(tmp_path)
    env = build.go_env(flanneld("v0.26.7"), cache, tmp_path / "bin")
    assert env["CGO_ENABLED"] == "1"  # §1a: the UDP backend needs cgo
    assert env["GOMODCACHE"] == str(tmp_path / "go" / "mod")
    assert env["GOCACHE"] == str(tmp_path / "go" / "build")
    assert env["GOTOOLCHAIN"] == "local" and env["GOBIN"] == str(tmp_path / "bin")
    assert "FLANNELD_IFACE" not in env
    assert build.go_env(cni_plugin("v1.7.1-flannel1"), cache, tmp_path)[
        "CGO_ENABLED"
    ] == ("0")


def test_failure_reasons_say_exactly_why() -> None:
    assert build.failure_reason(flanneld("v0.27.3"), REFUSED_MODULE, 1) == (
        "the Go module proxy refused github.com/flannel-io/flannel@v0.27.3: "
        "403 Forbidden (This module version is not available.)"
    )
    assert build.failure_reason(flanneld("v0.28.9"), REFUSED_DEPENDENCY, 1) == (
        "the Go module proxy refused github.com/tencentcloud/tencentcloud-sdk-go/"
        "tencentcloud/vpc@v1.3.149, needed by github.com/flannel-io/flannel@v0.28.9: "
        "403 Forbidden (This module version is not available.)"
    )
    compile_error = "go: downloading x v1\n./main.go:3:2: undefined: foo\n"
    assert build.failure_reason(flanneld("v0.26.7"), compile_error, 1) == (
        "go install github.com/flannel-io/flannel@v0.26.7 failed: "
        "./main.go:3:2: undefined: foo"
    )


FAKE_GO = """#!/bin/sh
# a stand-in for `go`: counts its runs, then behaves as $FAKE_GO_MODE says
echo run >> "$FAKE_GO_RUNS"
if [ "$1" = env ]; then echo go1.26.8; exit 0; fi
case "$FAKE_GO_MODE" in
  refuse) printf '%s' "$FAKE_GO_OUTPUT" >&2; exit 1 ;;
esac
echo "go: downloading example.com/dep v1.0.0" >&2
echo "example.com/dep" >&2
echo "github.com/flannel-io/flannel" >&2
printf '#!/bin/sh\\necho %s\\n' "$*" > "$GOBIN/$FAKE_GO_NAME"
chmod 755 "$GOBIN/$FAKE_GO_NAME"
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    go = bindir / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    runs = tmp_path / "runs"
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GO_RUNS", str(runs))
    monkeypatch.setenv("FAKE_GO_NAME", "flannel")
    monkeypatch.setenv("FAKE_GO_MODE", "ok")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    return runs


def test_build_installs_once_and_reports_progress(
    fake_go: Path, tmp_path: Path
) -> None:
    cache = BuildCache()
    seen: list[build.Progress] = []
    record = build.build(flanneld("v0.26.7"), cache, seen.append)
    assert record.ok and record.go_version == "go1.26.8"
    binary = cache.built(flanneld("v0.26.7"))
    assert binary == tmp_path / "c" / "flannel" / "v0.26.7" / "flanneld"
    assert {p.phase for p in seen} >= {"download", "compile", "done"}
    assert [p.text for p in seen if p.phase == "compile"] == [
        "example.com/dep",
        "github.com/flannel-io/flannel",
    ]
    runs = fake_go.read_text().count("run")
    again = build.build_all([flanneld("v0.26.7")], cache)
    assert again[0].ok and fake_go.read_text().count("run") == runs  # reused


def test_a_refused_module_is_a_record_not_an_exception(
    fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_GO_MODE", "refuse")
    monkeypatch.setenv("FAKE_GO_OUTPUT", REFUSED_MODULE)
    cache = BuildCache()
    record = build.build(flanneld("v0.27.3"), cache)
    assert not record.ok and "refused github.com/flannel-io/flannel@v0.27.3" in (
        record.reason
    )
    assert cache.record(flanneld("v0.27.3")) == record
    assert cache.built(flanneld("v0.27.3")) is None
    # a fresh failure is not retried when asked to wait, and is retried otherwise
    runs = fake_go.read_text().count("run")
    build.build_all([flanneld("v0.27.3")], cache, retry_failed_after=3600)
    assert fake_go.read_text().count("run") == runs
    build.build_all([flanneld("v0.27.3")], cache)
    assert fake_go.read_text().count("run") > runs


def test_missing_toolchain_and_compiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GOROOT", raising=False)
    monkeypatch.setattr(build, "GO_CANDIDATES", ())
    record = build.build(flanneld("v0.27.3"), BuildCache(tmp_path / "c"))
    assert not record.ok and record.reason.startswith("no Go toolchain found")
    monkeypatch.setattr(build, "find_go", lambda: "/usr/bin/true")
    monkeypatch.setattr(build, "find_cc", lambda: None)
    record = build.build(flanneld("v0.27.3"), BuildCache(tmp_path / "c"))
    assert "needs cgo" in record.reason and "gcc" in record.reason
    assert build.preflight(cni_plugin("v1.7.1-flannel1"))[0] == "/usr/bin/true"


def _built(cache: BuildCache, tag: str = "v0.26.7") -> Path:
    program = flanneld(tag)
    path = cache.binary(program)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    cache.save(program, BuildRecord(program.target, True, finished=1.0))
    return path


def test_choose_real_when_built(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    path = _built(cache)
    image = "ghcr.io/flannel-io/flannel:v0.26.7"
    choice = resolve.choose(image, "auto", cache)
    assert choice.impl == "real" and choice.files == {"/opt/bin/flanneld": str(path)}
    assert resolve.choose(image, "real", cache).impl == "real"
    emulated = resolve.choose(image, "emulated", cache)
    assert emulated.impl == "emulated" and emulated.files == {}


def test_choose_emulated_says_why(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    program = flanneld("v0.27.3")
    assert resolve.choose("flannel/flannel:v0.27.3", "real", cache).reason == (
        "not built yet"
    )
    cache.save(program, BuildRecord(program.target, False, "refused", finished=1.0))
    assert resolve.choose("flannel/flannel:v0.27.3", "real", cache).reason == "refused"
    assert resolve.choose("busybox", "real", cache).program is None


def test_choose_refuses_a_cache_nodes_cannot_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = BuildCache(tmp_path)
    _built(cache)
    monkeypatch.setattr(resolve, "INVISIBLE_IN_NODES", (str(tmp_path),))
    choice = resolve.choose("ghcr.io/flannel-io/flannel:v0.26.7", "real", cache)
    assert choice.impl == "emulated" and "do not share" in choice.reason


def test_requested_impl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(resolve.IMPL_ENV, raising=False)
    assert resolve.requested_impl(None) == "auto"
    assert resolve.requested_impl("REAL") == "real"
    monkeypatch.setenv(resolve.IMPL_ENV, "emulated")
    assert resolve.requested_impl(None) == "emulated"
    with pytest.raises(ValueError, match="real or emulated"):
        resolve.requested_impl("go")


def test_manifest_choices_per_program(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    _built(cache)
    choices = resolve.manifest_choices(matrix.manifest_path("v0.26.7"), "auto", cache)
    assert resolve.flannel_impl(choices) == "real"
    assert resolve.cni_plugin_impl(choices) == "emulated"
    line = resolve.describe(choices)
    assert line.startswith("real flanneld v0.26.7; emulated flannel CNI plugin")


def test_images_build_cli(
    fake_go: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.cli.main import build_parser

    manifest = matrix.manifest_path("v0.26.7")
    args = build_parser().parse_args(
        ["images", "build", "--manifest", str(manifest), "--json"]
    )
    monkeypatch.setenv("FAKE_GO_NAME", "flannel")
    rc = images_cmd.cmd_build(args)
    out = json.loads(capsys.readouterr().out)
    built = {row["target"]: row["built"] for row in out["programs"]}
    # the fake go names every binary "flannel": the plugin's "cni-plugin" is missing
    assert built == {
        "github.com/flannel-io/flannel@v0.26.7": True,
        "github.com/flannel-io/cni-plugin@v1.6.2-flannel1": False,
    }
    assert rc == images_cmd.EXIT_SOME_NOT_BUILT


def test_the_runtime_reads_the_real_plugins_error(tmp_path: Path) -> None:
    """A real plugin fails the way CNI's skel does: ``{"code": 999, "msg": ...}``
    indented by 4 spaces on stdout, exit 1 (real-flannel.md §4); the runtime reports
    that message, as libcni does (flannel-footprint.md §3.5 adds the runtime prefix)."""
    from harness.emulation.runtime.libcni import CNIError, exec_plugin

    msg = (
        "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: "
        "no such file or directory"
    )
    body = json.dumps({"code": 999, "msg": msg}, indent=4)
    plugin = tmp_path / "flannel"
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{body}\nEOF\nexit 1\n")
    plugin.chmod(0o755)
    with pytest.raises(CNIError) as err:
        exec_plugin(str(plugin), b"{}", {"CNI_COMMAND": "ADD"})
    assert str(err.value) == msg


def test_reproduce_records_which_implementation_ran(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.cli import flannel_impl

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(resolve.IMPL_ENV, raising=False)
    _built(BuildCache(tmp_path))
    manifest = matrix.manifest_path("v0.26.7")
    choices = flannel_impl.prepare(manifest, None)  # auto: real where built
    assert flannel_impl.as_json(choices) == {
        "flannel_impl": "real",
        "cni_plugin_impl": "emulated",
        "flannel_impl_detail": resolve.describe(choices),
    }
    assert "real flanneld v0.26.7" in capsys.readouterr().err  # the notice line
    emulated = flannel_impl.as_json(flannel_impl.prepare(manifest, "emulated"))
    assert emulated["flannel_impl"] == "emulated"
    args = argparse.Namespace(flannel_impl="real")
    assert flannel_impl.extra(args) == {"flannel_impl": "real"}


def test_a_second_builder_waits_and_says_so(tmp_path: Path) -> None:
    import threading

    cache = BuildCache(tmp_path)
    program = flanneld("v0.26.7")
    waited = threading.Event()

    def second() -> None:
        with cache.locked(program, waited.set):
            pass

    with cache.locked(program):
        other = threading.Thread(target=second)
        other.start()
        assert waited.wait(5)  # told while the first holder builds
    other.join(5)
    assert not other.is_alive()
    quiet: list[str] = []
    with cache.locked(program, lambda: quiet.append("waited")):
        pass
    assert quiet == []
