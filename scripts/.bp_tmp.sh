#!/usr/bin/env bash
# GetSecretValue throughput with authorization by policies vs. the account root (fast path):
# starts a release `coffer serve --dev`, creates an IAM user with 10 customer-managed policies
# of 10 statements each (wildcards, policy variables, conditions; the allowing statement is
# in the last policy), then runs coffer-bench as root and as that user and prints both
# figures and their ratio. Arguments go to coffer-bench (default: 500 secrets, c=16, 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p coffer-cli -p coffer-bench
target_dir="${CARGO_TARGET_DIR:-target}"
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r tests/python/requirements.txt; }

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$target_dir/release/coffer" serve --dev --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 200); do grep -q "Coffer listening on" "$work/out" && break; sleep 0.05; done
endpoint="http://$(sed -n 's/.*Coffer listening on http:\/\/\([^ ]*\).*/\1/p' "$work/out" | head -1)"
root_key="$(sed -n 's/^ *AWS_ACCESS_KEY_ID=//p' "$work/out" | head -1)"
root_secret="$(sed -n 's/^ *AWS_SECRET_ACCESS_KEY=//p' "$work/out" | head -1)"

user_creds="$(ENDPOINT="$endpoint" KEY="$root_key" SECRET="$root_secret" .venv/bin/python - <<'PY'
import json, os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"])
iam.create_user(UserName="bench", Tags=[{"Key": "team", "Value": "bench"}])
acct = iam.get_user(UserName="bench")["User"]["Arn"].split(":")[4]
for p in range(10):
    stmts = []
    for s in range(10):
        if p == 9 and s == 9:
            stmts.append({"Sid": "BenchAccess", "Effect": "Allow", "Action": "secretsmanager:*",
                          "Resource": "arn:aws:secretsmanager:*:${aws:PrincipalAccount}:secret:coffer-bench/*",
                          "Condition": {"StringEquals": {"aws:PrincipalTag/team": "bench"},
                                        "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
        else:
            stmts.append({"Sid": f"P{p}S{s}", "Effect": "Allow",
                          "Action": [f"secretsmanager:Get{s}*", "secretsmanager:Describe*"],
                          "Resource": f"arn:aws:secretsmanager:*:{acct}:secret:team-{p}-{s}/${{aws:username}}/*",
                          "Condition": {"IpAddress": {"aws:SourceIp": f"10.{p}.{s}.0/24"},
                                        "StringLike": {"secretsmanager:ResourceTag/owner": "${aws:username}-*"}}})
    arn = iam.create_policy(PolicyName=f"bench-{p}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": stmts}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bench", PolicyArn=arn)
k = iam.create_access_key(UserName="bench")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)"
read -r user_key user_secret <<<"$user_creds"

args=("$@"); [ ${#args[@]} -gt 0 ] || args=(--secrets 500 --concurrency 16 --duration 10 --write-concurrency 0)
run() {
    AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_DEFAULT_REGION=us-east-1 \
        "$target_dir/release/coffer-bench" --endpoint "$endpoint" --server-pid "$pid" \
        --json "$work/$3.json" "${args[@]}"
}
echo "== as the account root (no policy evaluation)"; run "$root_key" "$root_secret" root
echo "== user"; (sleep 4; perf record -F 999 -g -p "$pid" -o /tmp/perf.data -- sleep 6 >/dev/null 2>&1) & run "$user_key" "$user_secret" user; wait
.venv/bin/python - "$work/root.json" "$work/user.json" <<'PY'
import json, sys
def rps(path):
    d = json.load(open(path))
    lv = [l for l in d["levels"] if l.get("op", "GetSecretValue") == "GetSecretValue"]
    return max(l["requests_per_sec"] for l in lv)
r, u = rps(sys.argv[1]), rps(sys.argv[2])
print(f"GetSecretValue: root {r:,.0f} req/s, user with policies {u:,.0f} req/s ({(u / r - 1) * 100:+.1f}%)")
PY
