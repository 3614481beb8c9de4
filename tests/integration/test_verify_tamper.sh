#!/usr/bin/env bash
# Evidence is tamper-evident: one changed byte in any file makes
# `ffrun verify` exit 1 naming the file; a removed or reordered line of
# events.jsonl is caught by the hash chain.
source "$(dirname "$0")/../harness/lib.sh"

make_config "$WORK/ws"
cat > "$WORK/ws/some.lua" <<'LUA'
return { name = "some", version = "1", summary = "leaves some evidence",
  steps = {
    { name = "one", doc = "log and keep raw output", run = function()
        ff.log.info("hello")
        ff.evidence.raw("note.txt", "raw output\n")
        ff.evidence.set("answer", { value = 42 })
    end },
    { name = "two", doc = "more events", run = function()
        for i = 1, 5 do ff.hash.string("x" .. i) end
    end },
  } }
LUA
"$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/some.lua" || { nok "baseline run"; finish; exit 1; }
ev=$(last_evidence "$WORK/ws")
verify() { "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" verify path="$1" 2> "$WORK/err"; }

verify "$ev"
code=$?
check "untouched evidence verifies" [ $code = 0 ]
check "summary holds the runbook's own member" grep -q '"answer":{"value":42}' "$ev/summary.json"

# One flipped byte in each file in turn.
for f in $(cd "$ev" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort); do
  copy="$WORK/copy"
  rm -rf "$copy"; cp -a "$ev" "$copy"
  size=$(stat -c %s "$copy/$f")
  off=$((size / 2))
  byte=$(od -An -tu1 -j "$off" -N1 "$copy/$f" | tr -d ' ')
  printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" | dd of="$copy/$f" bs=1 seek="$off" conv=notrunc status=none
  verify "$copy"
  code=$?
  check "flipped byte in $f: exit 1 naming it (got $code)" \
    bash -c "[ $code = 1 ] && grep -qF -- '$f' '$WORK/err'"
done

# events.jsonl: a removed middle line, a removed last line, two lines swapped,
# each with DIGEST recomputed so only the chain can tell.
redigest() { (cd "$1" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST); }
for how in remove-middle remove-last swap; do
  copy="$WORK/copy"
  rm -rf "$copy"; cp -a "$ev" "$copy"
  n=$(wc -l < "$copy/events.jsonl")
  case $how in
    remove-middle) sed -i "$((n / 2))d" "$copy/events.jsonl" ;;
    remove-last)   sed -i '$d' "$copy/events.jsonl" ;;
    swap)          awk -v a=3 'NR==a { held=$0; next } { print } NR==a+1 { print held }' \
                     "$copy/events.jsonl" > "$copy/e" && mv "$copy/e" "$copy/events.jsonl" ;;
  esac
  redigest "$copy"
  verify "$copy"
  code=$?
  check "events.jsonl $how: exit 1 naming events.jsonl (got $code)" \
    bash -c "[ $code = 1 ] && grep -q 'events.jsonl' '$WORK/err'"
done

# An extra file not in DIGEST is caught too.
rm -rf "$WORK/copy"; cp -a "$ev" "$WORK/copy"; echo x > "$WORK/copy/raw/extra"
verify "$WORK/copy"
code=$?
check "unlisted file: exit 1 naming it" bash -c "[ $code = 1 ] && grep -q 'raw/extra' '$WORK/err'"
finish
