#!/usr/bin/env bash
# Writes outpost(1), gzipped, from the binary's own --help (help2man), with a COMMANDS section
# made of every command's --help, so the man page never says other than the program.
# Usage: deploy/make-man.sh OUT.1.gz OUTPOST [RUNNER...]
#   RUNNER: how to run OUTPOST when it is not for this machine (qemu-aarch64-static).
set -euo pipefail
out=$1
binary=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# help2man names the page after the program it runs, and CLI11 prints argv[0] in "Usage:".
if [ $# -eq 0 ]; then
  printf '#!/usr/bin/env bash\nexec -a outpost %q "$@"\n' "$binary" > "$tmp/outpost"
else
  printf '#!/usr/bin/env bash\nexec %s -0 outpost %q "$@"\n' "$*" "$binary" > "$tmp/outpost"
fi
chmod +x "$tmp/outpost"
run() { "$tmp/outpost" "$@" | sed 's/\\/\\e/g; s/^\./\\\&./; s/^'"'"'/\\\&'"'"'/'; }
commands() {  # the subcommands a --help lists
  "$tmp/outpost" "$@" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'
}
{
  echo '[COMMANDS]'
  echo 'Every command takes \fB\-\-data\fR \fIDIR\fR, the data folder (the package serves /var/lib/outpost).'
  for cmd in $(commands); do
    echo ".SS $cmd"
    echo '.nf'
    run "$cmd" --help
    echo '.fi'
    for sub in $(commands "$cmd"); do
      echo ".SS $cmd $sub"
      echo '.nf'
      run "$cmd" "$sub" --help
      echo '.fi'
    done
  done
  cat <<'H2M'
[FILES]
.TP
.I /etc/outpost/outpost.toml
The settings of \fBoutpost serve\fR as the package runs it (outpost.service).
.TP
.I /var/lib/outpost
The data folder of the package's service: the library, the keys, the accounts, sync.db.
[SEE ALSO]
The guides and formats in /usr/share/doc/outpost/ (start with install.md and README.md);
\fBsystemctl\fR(1) and \fBjournalctl\fR(1) for the service \fBoutpost.service\fR.
H2M
} > "$tmp/extra.h2m"
help2man --no-info --section 1 --name "offline-first learning content server" \
  --include "$tmp/extra.h2m" --output "$tmp/outpost.1" "$tmp/outpost"
gzip -9n < "$tmp/outpost.1" > "$out.part"
mv "$out.part" "$out"
