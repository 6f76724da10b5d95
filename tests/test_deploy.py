"""The deployment files (issue 11 item 8): deploy/kpi-dashboard.service and deploy/nginx-kpi-dashboard.conf
say what docs/server.md ("Deployment") and the README ("Run it as a service") say, agree with each other and
with the app's settings, and parse: `systemd-analyze verify` and `nginx -t` when the machine has them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "kpi-dashboard.service"
SITE = ROOT / "deploy" / "nginx-kpi-dashboard.conf"


def unit() -> dict[str, dict[str, list[str]]]:
    """The unit file's sections; a key may repeat (Environment=), so each maps to its list of values."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def environment() -> dict[str, str]:
    return dict(item.split("=", 1) for item in unit()["Service"]["Environment"])


def one(key: str) -> str:
    values = unit()["Service"][key]
    assert len(values) == 1, (key, values)
    return values[0]


def test_the_unit_runs_the_server_as_its_own_user_on_the_loopback_port() -> None:
    service = unit()["Service"]
    assert one("User") == one("Group") == "kpi"
    workdir = Path(one("WorkingDirectory"))
    command = one("ExecStart").split()
    assert command[0] == str(workdir / ".venv" / "bin" / "python")
    assert command[1:3] == ["-m", "dashboard.serve"]
    options = dict(zip(command[3::2], command[4::2], strict=False))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8501"
    assert one("Restart") == "on-failure"
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]
    assert "ExecStart" in service
    assert (ROOT / "dashboard" / "serve.py").exists()


def test_the_unit_may_write_only_the_database_and_backup_folders() -> None:
    env = environment()
    db, backups = Path(env["KPI_DB"]), Path(env["KPI_BACKUP_DIR"])
    assert db.is_absolute() and backups.is_absolute()
    assert one("NoNewPrivileges") == "yes"
    assert one("ProtectSystem") == "strict"
    assert one("PrivateTmp") == "yes"
    writable = {Path(p) for p in one("ReadWritePaths").split()}
    assert writable == {db.parent, backups}
    assert not any(Path(one("WorkingDirectory")).is_relative_to(p) for p in writable)  # the code stays read-only
    assert env["KPI_TRUST_PROXY"] == "1"  # it sits behind the nginx site below, which overwrites the headers


def site() -> str:
    return SITE.read_text(encoding="utf-8")


def locations() -> dict[str, str]:
    """Each `location … { … }` block of the site by its path (the blocks hold no nested braces)."""
    directives = re.sub(r"#[^\n]*", "", site())  # comments may say "location"
    return {m[1].strip(): m[2] for m in re.finditer(r"location\s+([^{]+)\{([^}]*)\}", directives)}


def test_the_site_redirects_to_https_and_sends_hsts() -> None:
    text = site()
    assert re.search(r"listen 80;.*?return 301 https://\$host\$request_uri;", text, re.S)
    assert re.search(r"listen 443 ssl", text)
    assert re.search(r'add_header Strict-Transport-Security "max-age=(\d+)[^"]*" always;', text)
    assert int(re.search(r"max-age=(\d+)", text)[1]) >= 180 * 86400  # type: ignore[index]


def test_the_site_proxies_to_the_units_port_with_the_headers_the_server_reads() -> None:
    text = site()
    port = dict(zip(one("ExecStart").split()[3::2], one("ExecStart").split()[4::2], strict=False))["--server.port"]
    assert re.search(rf"upstream kpi_dashboard \{{\s*server 127\.0\.0\.1:{port};", text)
    proxied = {path: body for path, body in locations().items() if "proxy_pass" in body}
    assert set(proxied) == {"/_stcore/stream", "/"}
    for path, body in proxied.items():  # proxy_set_header is not inherited into a block that sets its own
        assert "proxy_pass http://kpi_dashboard;" in body, path
        for name, value in (("Host", "$host"), ("X-Forwarded-For", "$remote_addr"), ("X-Forwarded-Proto", "$scheme")):
            pattern = rf"proxy_set_header {name}\s+{re.escape(value)};"
            assert re.search(pattern, body), (path, name)
    stream = proxied["/_stcore/stream"]
    assert re.search(r"proxy_set_header Upgrade\s+\$http_upgrade;", stream)
    assert re.search(r"proxy_set_header Connection\s+\$kpi_connection_upgrade;", stream)
    assert int(re.search(r"proxy_read_timeout (\d+)s;", stream)[1]) >= 3600  # type: ignore[index]
    assert "proxy_http_version 1.1;" in text


def test_the_operators_endpoint_is_never_proxied() -> None:
    blocks = locations()
    assert "return 404;" in blocks["^~ /api/ops/"]
    assert "proxy_pass" not in blocks["^~ /api/ops/"]


def test_the_upload_limit_matches_the_apps() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    limit = config["server"]["maxUploadSize"]
    assert re.search(rf"client_max_body_size {limit}m;", site())


def test_the_readme_and_docs_name_these_files_and_paths() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run it as a service", 1)[1].split("\n## ", 1)[0]
    env = environment()
    for needed in (
        "deploy/kpi-dashboard.service",
        "deploy/nginx-kpi-dashboard.conf",
        one("WorkingDirectory"),
        env["KPI_DB"],
        env["KPI_BACKUP_DIR"],
        "kpi user add",
        "secrets.toml",
        "/healthz",
        "kpi restore",
    ):
        assert needed in section, needed
    docs = (ROOT / "docs" / "server.md").read_text(encoding="utf-8").split("## Deployment", 1)[1]
    assert "kpi-dashboard.service" in docs and "nginx-kpi-dashboard.conf" in docs


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # the unit as installed, but with this machine's Python where /opt/kpi-dashboard/.venv is not
    text = UNIT.read_text(encoding="utf-8").replace(one("ExecStart").split()[0], sys.executable)
    copy = tmp_path / "kpi-dashboard.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed (apt-get install nginx)")
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("kpi.example.gov.cn")
    chain, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    cert.private_key_pem.write_to_path(str(key))
    with chain.open("wb") as f:
        for blob in cert.cert_chain_pems:
            f.write(blob.bytes())
    site_copy = tmp_path / "site.conf"
    site_copy.write_text(
        site()
        .replace("/etc/ssl/kpi-dashboard/fullchain.pem", str(chain))
        .replace("/etc/ssl/kpi-dashboard/privkey.pem", str(key)),
        encoding="utf-8",
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {site_copy};\n}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr, done.stderr
