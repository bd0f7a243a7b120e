#!/bin/sh
# A custom agent's polling loop over REST, with curl and jq (docs/agents.md): claim the most urgent
# issue, work on it, mark it done; sleep while there is nothing to do, back off on every error.
#   LOOP_URL=http://127.0.0.1:3000 LOOP_API_KEY=lk_... sh examples/agent-loop.sh
# README.md and docs/agents.md show the lines below as they are (test/examples/agent-loop-shell.test.ts).

: "${LOOP_URL:=http://127.0.0.1:3000}" "${LOOP_API_KEY:?set LOOP_API_KEY to an lk_ key}"
claim=$(jq -nc --arg agent "${LOOP_AGENT:-my-agent@$(hostname)}" '{agent: $agent, types: ["signal", "bug"]}')
tmp=$(mktemp -d) && body=$tmp/body head=$tmp/head
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
delay=1   # seconds to wait after an error; doubles (up to 300) while errors last

# request METHOD PATH JSON: prints the HTTP status (000: no answer); the body lands in $body
request () {
  : > "$head"
  curl -s --max-time 30 -o "$body" -D "$head" -w '%{http_code}' -X "$1" "$LOOP_URL$2" \
    -H "Authorization: Bearer $LOOP_API_KEY" -H 'content-type: application/json' -d "$3"
}

# back_off STATUS: sleeps for the answer's Retry-After if it has one, else $delay, which then doubles
back_off () {
  after=$(tr -d '\r' < "$head" | grep -i '^retry-after: *[0-9][0-9]*$' | tr -dc '0-9')
  echo "HTTP $1: retrying in ${after:-$delay} s" >&2
  sleep "${after:-$delay}"
  if [ "$delay" -lt 300 ]; then delay=$((delay * 2)); fi
}

while true; do
  status=$(request POST /api/issues/claim "$claim")
  case $status in
    200) delay=1 ;;                                # claimed: the issue itself is in $body
    204) delay=1; sleep 30; continue ;;            # nothing to do
    *) back_off "$status"; continue ;;             # 401, 429, 5xx, or no answer at all
  esac
  id=$(jq -r '.id // empty' "$body")
  if [ -z "$id" ]; then back_off "200 without an issue id"; continue; fi
  echo "claimed #$(jq -r .number "$body"): $(jq -r .title "$body")"
  # … work on the issue (its JSON is in "$body") …
  until status=$(request PATCH "/api/issues/$id" '{"status":"done"}'); [ "$status" = 200 ]; do  # or "todo" to hand it back
    case $status in
      000|429|5[0-9][0-9]) back_off "$status" ;;   # Loop is busy or away: try again
      *) echo "PATCH /api/issues/$id: HTTP $status $(cat "$body")" >&2; break ;;
    esac
  done
done
