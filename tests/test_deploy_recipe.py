"""docs/deploy.md's recipe without containers, tried: deploy/nginx-tls.conf (Debian's nginx,
a certificate made here) in front of a real ``ankra-auth serve`` started as
deploy/ankra-auth.service starts it."""

from __future__ import annotations

import configparser
import datetime
import ipaddress
import shlex
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.faults.nginx import nginx_serving
from tests.live_server import service_process
from tests.postgres_server import free_port

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PASSWORD = "long enough password"


def render_site(
    *, service_port: int, https_port: int, http_port: int, cert: Path, key: Path
) -> str:
    """deploy/nginx-tls.conf with this test's ports and certificate, nothing else changed."""
    site = (DEPLOY / "nginx-tls.conf").read_text()
    swaps = {
        "    server 127.0.0.1:8000;\n": f"    server 127.0.0.1:{service_port};\n",
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl;\n": f"    listen 127.0.0.1:{https_port} ssl;\n",
        "    listen [::]:443 ssl;\n": "",
        "/etc/letsencrypt/live/auth.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/auth.example.com/privkey.pem": str(key),
    }
    for old, new in swaps.items():
        assert old in site, f"deploy/nginx-tls.conf changed: {old!r}"
        site = site.replace(old, new)
    return site


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def unit_exec_start() -> list[str]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "ankra-auth.service")
    return shlex.split(unit["Service"]["ExecStart"])


def test_the_unit_starts_serve_on_the_loopback_address_behind_the_proxy() -> None:
    command = unit_exec_start()
    assert command[0].endswith("/bin/ankra-auth") and command[1] == "serve"
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert options == {"--host": "127.0.0.1", "--port": "8000", "--workers": "2"}
    site = (DEPLOY / "nginx-tls.conf").read_text()
    assert "server 127.0.0.1:8000;" in site


def test_tls_hsts_closed_sign_up_and_sign_in_through_the_proxy(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    https_port, http_port, service_port = free_port(), free_port(), free_port()
    public = f"https://localhost:{https_port}"
    env = {"ANKRA_PUBLIC_URL": public, "ANKRA_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with service_process(
        f"sqlite:///{tmp_path / 'ankra.db'}",
        log_path=tmp_path / "serve.log",
        port=service_port,
        extra_env=env,
    ) as direct:
        site = render_site(
            service_port=service_port,
            https_port=https_port,
            http_port=http_port,
            cert=cert,
            key=key,
        )
        with (
            nginx_serving(tmp_path / "nginx", site, probe=f"http://127.0.0.1:{http_port}/"),
            httpx.Client(base_url=public, verify=ssl.create_default_context(cafile=cert)) as web,
        ):
            # Plain HTTP only redirects to https.
            plain = httpx.get(f"http://127.0.0.1:{http_port}/login?next=/x", timeout=10)
            assert plain.status_code == 301
            assert plain.headers["location"] == "https://127.0.0.1/login?next=/x"

            page = web.get("/login")
            assert page.status_code == 200 and "Sign in" in page.text
            assert page.headers["strict-transport-security"] == "max-age=63072000"

            # Sign-up is closed at the proxy, with a problem the API's clients understand.
            body = {"email": "new@example.com", "password": PASSWORD}
            closed = web.post("/api/v1/users", json=body)
            assert closed.status_code == 403
            assert closed.headers["content-type"] == "application/problem+json"
            assert closed.json()["code"] == "forbidden"
            assert "strict-transport-security" in closed.headers
            slash = web.post("/api/v1/users/", json=body)
            assert slash.status_code == 307, slash.text  # to /api/v1/users, which is closed
            assert slash.headers["location"] == f"{public}/api/v1/users"
            for spelling in ("/api//v1/users", "/api/v1/%75sers"):
                assert web.post(spelling, json=body).status_code == 403, spelling

            # An administrator's account (here through the service's own port) signs in.
            assert httpx.post(f"{direct}/api/v1/users", json=body, timeout=10).status_code == 201
            signed_in = web.post(
                "/api/v1/auth/login",
                json=body,
                headers={"Origin": public, "X-Forwarded-For": "203.0.113.9"},
            )
            assert signed_in.status_code == 200, signed_in.text
            cookie = signed_in.headers["set-cookie"]
            assert "ankra_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
            token = signed_in.json()["access_token"]
            sessions = web.get(
                "/api/v1/profile/sessions", headers={"Authorization": f"Bearer {token}"}
            ).json()
            # The proxy overwrote the client's X-Forwarded-For: the real address is recorded.
            assert [s["ip"] for s in sessions] == ["127.0.0.1"]

            # /metrics is not on the public port.
            assert web.get("/metrics").status_code == 404
