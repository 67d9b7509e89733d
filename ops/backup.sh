#!/bin/sh
# Online backup of the Vedetta database, keeping the last VEDETTA_BACKUP_KEEP_DAYS days.
# Install as /usr/local/lib/vedetta/backup.sh; run by vedetta-backup.service.
#
# Restore: systemctl stop vedetta
#          cp BACKUP /var/lib/vedetta/vedetta.sqlite3 && rm -f /var/lib/vedetta/vedetta.sqlite3-wal /var/lib/vedetta/vedetta.sqlite3-shm
#          chown vedetta:vedetta /var/lib/vedetta/vedetta.sqlite3 && systemctl start vedetta
set -eu
dir="${VEDETTA_BACKUP_DIR:-/var/backups/vedetta}"
keep="${VEDETTA_BACKUP_KEEP_DAYS:-14}"
vedetta="${VEDETTA_BIN:-/usr/local/bin/vedetta}"

mkdir -p "$dir"
target="$dir/vedetta-$(date -u +%Y%m%dT%H%M%SZ).sqlite3"
"$vedetta" backup "$target"
find "$dir" -name 'vedetta-*.sqlite3' -mtime +"$keep" -delete
