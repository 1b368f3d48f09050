#!/usr/bin/env bash
# Replays every file in events/ through the real Lambda binary (under cargo-lambda's emulator)
# against a local SNS and DynamoDB (moto), then shows what phones and inboxes would get.
#   scripts/demo.sh          the demo
#   scripts/demo.sh --check  the same, failing unless every alertable event was published exactly
#                            once, only paged CRITICAL/HIGH alerts passed the SMS filter, the
#                            redelivered event was not alerted again, every invalid one was
#                            rejected, every alert put one event on the alert bus (the
#                            redelivery one marked repeat) and every escalating one reached
#                            the PagerDuty stand-in (run by `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
check=false
[[ "${1:-}" == "--check" ]] && check=true

work=.demo
rm -rf "$work" && mkdir -p "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # port seconds [pid that must stay alive]
  for _ in $(seq $(( $2 * 10 ))); do
    port_open "$1" && return 0
    if [[ -n "${3:-}" ]] && ! kill -0 "$3" 2>/dev/null; then
      echo "demo: the process for port $1 exited; its log:" >&2; cat "$work"/function.log >&2; return 1
    fi
    sleep 0.1
  done
  echo "demo: nothing listens on port $1 after $2 s" >&2; return 1
}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

moto_port=$(free_port)
endpoint="http://127.0.0.1:$moto_port"
setsid moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for "$moto_port" 30
topic=$(python3 scripts/local_sns.py setup "$endpoint")
echo "demo: local SNS + DynamoDB + EventBridge at $endpoint: topic $topic with an email and an SMS subscriber, table rootwatch-state, alert bus rootwatch-alerts with the template's on-call rules"

cat >"$work/function.env" <<ENV
ALERT_TOPIC_ARN="$topic"
ACCOUNT_NAMES="111122223333=prod-payments"
RUNBOOK_URL="https://wiki.example.com/security/runbooks/root-user"
ASSUME_ROOT_ISSUERS="arn:aws:iam::999988887777:role/RootTasks"
FUNCTION_ROLE_ARN="arn:aws:iam::111122223333:role/rootwatch-RootwatchFunctionRole-0A1B2C3D4E5F"
TOPIC_DISPLAY_NAME="$(python3 scripts/local_sns.py display-name)"
STATE_TABLE="rootwatch-state"
ALERT_EVENT_BUS="rootwatch-alerts"
SMS_CEILING_PER_HOUR=1000
AWS_ENDPOINT_URL="$endpoint"
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
RUST_LOG=info
ENV
invoke_port=$(free_port)
echo "demo: building the function (the first build takes a few minutes)"
# PROFILE=release measures what Lambda runs (make bench-memory); the demo uses the debug build.
profile=${PROFILE:-dev}
cargo build --quiet --profile "$profile" --bin rootwatch
echo "demo: starting it under cargo lambda watch, the local Lambda emulator"
setsid cargo lambda watch --quiet --ignore-changes --profile "$profile" -A 127.0.0.1 -P "$invoke_port" \
  --env-file "$work/function.env" >"$work/function.log" 2>&1 &
pids+=($!)
wait_for "$invoke_port" 60 "${pids[-1]}"

# The replay puts some forty root events of one account through in seconds. At the deployed
# default (SMS_CEILING_PER_HOUR=10) texts would pause after the tenth, and the demo would show
# one text per sample only for the first ten; the ceiling is raised above so every sample shows
# the text its phone would get. tests/it/state/ceiling.rs shows the ceiling itself against moto.
# The three samples signed with the long-term key AKIAIOSFODNN7EXAMPLE are one root session of kind
# long-term-access-key-used, which texts once per session (docs/dedup-and-floods.md): one text.
# The AssumeRoot SQS unlock sample from the demo's listed issuer (ASSUME_ROOT_ISSUERS) is lowered to
# LOW by an allowance and not texted; the one from an unknown issuer texts.
expected_paged=35 expected_notices=0
alerted=0 paged=0 notices=0 ignored=0 duplicates=0 rejected=0 wrong=0
invoke() { # file -> prints one line, counts
  local file=$1 out status
  if out=$(cargo lambda invoke rootwatch -A 127.0.0.1 -P "$invoke_port" --data-file "$file" 2>&1); then
    status=$(python3 scripts/local_sns.py outcome "$out")
    case "$status" in
      alerted*"(texted + email; the text: texts paused"*)
        alerted=$((alerted + 1)) paged=$((paged + 1)) notices=$((notices + 1)) ;;
      alerted*"(texted + email)") alerted=$((alerted + 1)) paged=$((paged + 1)) ;;
      alerted*) alerted=$((alerted + 1)) ;;
      duplicate*) duplicates=$((duplicates + 1)) ;;
      *) ignored=$((ignored + 1)) ;;
    esac
    [[ "$file" == events/invalid/* ]] && wrong=$((wrong + 1))
  else
    status="error: $(tr '\n' ' ' <<<"$out" | grep -o 'Rootwatch\.[A-Za-z.]*' | head -1)"
    rejected=$((rejected + 1))
    [[ "$file" != events/invalid/* ]] && wrong=$((wrong + 1))
  fi
  printf '%-52s %s\n' "${file#events/}" "$status"
}
printf '\n%-52s %s\n' "EVENT FILE" "WHAT THE FUNCTION RETURNED"
for file in events/*.json events/invalid/*.json; do invoke "$file"; done
echo
echo "demo: EventBridge delivers at least once; redelivering the first sign-in:"
invoke events/root-console-sign-in-without-mfa.json

echo
echo "demo: $alerted alerted ($paged for phones, $notices of them saying texts are paused), $ignored ignored, $duplicates duplicate, $rejected rejected"
# Peak resident memory of the function process after every sample (Lambda bills by memory size).
peak_kib=$(for pid in $(pgrep -f '/(debug|release)/rootwatch$'); do
  awk '/VmHWM/ {print $2}' "/proc/$pid/status"; done | sort -n | tail -1)
echo "demo: function peak resident memory: $(( ${peak_kib:-0} / 1024 )) MiB ($profile build)"
if $check; then
  read -r published phoned bus_events repeats escalating pagerduty < <(python3 scripts/local_sns.py count "$endpoint" "$topic")
  echo "demo: SNS recorded $published publish(es); $phoned passed the SMS filter policy"
  echo "demo: the alert bus got $bus_events event(s) ($repeats repeat, $escalating escalating); the PagerDuty stand-in got $pagerduty request(s)"
  if [[ "$published" != "$alerted" || "$phoned" != "$paged" || "$duplicates" != 1 || "$wrong" != 0 || "$alerted" -lt 14
        || "$paged" != "$expected_paged" || "$notices" != "$expected_notices"
        || "$bus_events" != $((alerted + duplicates)) || "$repeats" != "$duplicates"
        || "$pagerduty" != "$escalating" || "$escalating" -lt 1 ]]; then
    echo "demo check FAILED: expected one publish per alert, SMS for paged CRITICAL/HIGH only ($expected_paged, $expected_notices of them the notice that texts are paused), the redelivery deduplicated, errors exactly for events/invalid/, one alert event per alert (the redelivery's marked repeat) and one PagerDuty request per escalating event" >&2
    echo "--- function log ---" >&2; tail -40 "$work/function.log" >&2
    exit 1
  fi
  echo "demo check passed"
else
  python3 scripts/local_sns.py show "$endpoint" "$topic"
  echo "Function log: $work/function.log"
fi
