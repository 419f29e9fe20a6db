#!/usr/bin/env bash
# scripts/check-compose.sh — checks docker-compose.yml without a Docker
# engine: `docker compose config` when the compose plugin exists (it needs no
# engine), and always a structural check with python3 + PyYAML: every
# depends_on target exists, conditions are valid, the api has a /readyz
# healthcheck, and every Sentinel service gets the variables it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-docker-compose.yml}

if docker compose version >/dev/null 2>&1; then
	docker compose -f "$file" config --quiet
	echo "docker compose config: ok"
else
	echo "docker compose plugin not installed; structural check only"
fi

command -v python3 >/dev/null || { echo "check-compose: python3 is required" >&2; exit 2; }
python3 - "$file" <<'PY'
import sys

try:
    import yaml
except ImportError:
    sys.exit("check-compose: python3 has no PyYAML (apt-get install python3-yaml)")

path = sys.argv[1]
with open(path) as f:
    doc = yaml.safe_load(f)  # resolves the x-sentinel-env anchor and << merges

errors = []
services = doc.get("services") or {}
if not services:
    errors.append("no services")

conditions = {"service_started", "service_healthy", "service_completed_successfully"}
for name, svc in services.items():
    if "image" not in svc and "build" not in svc:
        errors.append(f"{name}: neither image nor build")
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {d: {"condition": "service_started"} for d in deps}
    for dep, spec in deps.items():
        if dep not in services:
            errors.append(f"{name}: depends_on unknown service {dep!r}")
        cond = (spec or {}).get("condition", "service_started")
        if cond not in conditions:
            errors.append(f"{name}: depends_on {dep}: bad condition {cond!r}")
        if cond == "service_healthy" and "healthcheck" not in services.get(dep, {}):
            errors.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    if not all(isinstance(v, (str, int, float, bool)) or v is None for v in env.values()):
        errors.append(f"{name}: environment values must be scalars")

need = ["DATABASE_URL", "REDIS_URL", "STORAGE_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_FORCE_PATH_STYLE", "SIGNING_KEY", "SECRETS_KEY"]

# Every image pulled is pinned to a version: ":latest" or no tag changes
# under the user between two `docker compose up`s. Locally built images
# (build:) are exempt.
for name, svc in services.items():
    img = str(svc.get("image", ""))
    if "build" in svc or not img:
        continue
    tag = img.rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" not in img and (tag == "" or tag == "latest"):
        errors.append(f"{name}: image {img!r} is not pinned to a version")
for name in ("api", "worker"):
    svc = services.get(name)
    if svc is None:
        errors.append(f"no {name} service")
        continue
    env = svc.get("environment") or {}
    for var in need:
        if var not in env:
            errors.append(f"{name}: {var} not set")
    # Booleans must reach the binary as strings YAML did not reinterpret.
    if not isinstance(env.get("S3_FORCE_PATH_STYLE", ""), str):
        errors.append(f"{name}: quote S3_FORCE_PATH_STYLE")

api = services.get("api", {})
hc = " ".join(map(str, (api.get("healthcheck") or {}).get("test", [])))
if "/readyz" not in hc:
    errors.append("api: healthcheck does not probe /readyz")
if "8080:8080" not in [str(p) for p in api.get("ports", [])]:
    errors.append("api: port 8080 not published")
replicas = ((services.get("worker") or {}).get("deploy") or {}).get("replicas", 1)
if replicas < 2:
    errors.append("worker: fewer than 2 replicas")

for name, svc in services.items():
    for v in svc.get("volumes") or []:
        src = str(v).split(":", 1)[0]
        if not src.startswith((".", "/")) and src not in (doc.get("volumes") or {}):
            errors.append(f"{name}: named volume {src!r} not declared")

if errors:
    print(f"{path}:", file=sys.stderr)
    for e in errors:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print(f"{path}: {len(services)} services, structure ok")
PY
