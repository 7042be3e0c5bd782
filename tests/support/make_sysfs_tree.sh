#!/usr/bin/env bash
# make_sysfs_tree.sh DUMP ROOT [--numa ADDR=NODE]... [--driver ADDR=NAME]... [--module NAME]...
#
# Builds ROOT/sys/... the way Linux lays out PCI in sysfs, from the bytes of a real
# `lspci -x/-xxx/-xxxx` dump, so that libpci's linux-sysfs method (and so `lspci -A
# linux-sysfs -O sysfs.path=ROOT/sys/bus/pci` and `gpu-node-setup --root ROOT`) reads what
# a dump cannot carry: the bound driver and the NUMA node.
#
# For every function in DUMP:
#   ROOT/sys/devices/pciDDDD:00/ADDR/     (flat under the host bridge; libpci does not care
#                                          about the nesting behind bridges)
#     config             the function's bytes from the dump, binary; rows the dump lacks read ff
#                        (as libpci's dump method fills them); 64, 256 or 4096 bytes
#     vendor device subsystem_vendor subsystem_device   "0x10de\n" (kernel format)
#     class              "0x030000\n" (base, sub-class, prog-if)     revision  "0xa1\n"
#     irq                the interrupt line byte (0x3c), decimal     numa_node "0\n"
#     resource           13 all-zero lines: no BAR addresses or sizes are modelled
#     subsystem          -> ../../../bus/pci
#     driver             -> ../../../bus/pci/drivers/NAME   (only for bound functions)
#   ROOT/sys/bus/pci/devices/ADDR -> ../../../devices/pciDDDD:00/ADDR
#   ROOT/sys/bus/pci/drivers/NAME/{ADDR -> the device, module -> ../../../../module/NAME}
#   ROOT/sys/module/NAME/ for every bound driver and every --module NAME
#
# Subsystem IDs follow the kernel: header type 0 from 0x2c, type 1 (bridge) from the SSVID
# capability (0x0d) if it has one, type 2 (CardBus) from 0x40; otherwise 0x0000.
# Defaults: NUMA node 0; NVIDIA (10de) display functions (class 03xx) bound to "nvidia",
# NVIDIA audio functions (class 0403) to "snd_hda_intel", everything else unbound.
# --numa and --driver override them per function (ADDR as lspci -D prints it);
# --driver ADDR= leaves the function unbound.
set -euo pipefail

usage() {
  echo "usage: $0 DUMP ROOT [--numa ADDR=NODE]... [--driver ADDR=NAME]... [--module NAME]..." >&2
  exit 2
}

[ $# -ge 2 ] || usage
dump=$1 root=$2
shift 2
[ -r "$dump" ] || { echo "$0: cannot read $dump" >&2; exit 1; }

declare -A numa_of=() driver_of=()
extra_modules=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --numa) numa_of[${2%%=*}]=${2#*=} ;;
    --driver) driver_of[${2%%=*}]=${2#*=} ;;
    --module) extra_modules+=("$2") ;;
    *) usage ;;
  esac
  shift 2
done

# One line per function: ADDR SIZE HEX (2*SIZE hex digits, missing rows as ff).
# Plain POSIX awk (mawk has no strtonum and older ones no {n} intervals).
parse_dump() {
  awk '
    function hexval(s,   i, v) {
      s = tolower(s); v = 0
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v
    }
    function flush(   size, i, out) {
      if (addr == "") return
      size = (top < 64) ? 64 : (top < 256 ? 256 : 4096)
      out = ""
      for (i = 0; i < size; i++) out = out ((i in b) ? b[i] : "ff")
      print addr, size, out
      split("", b); addr = ""
    }
    $1 ~ /^[0-9a-fA-F:]+\.[0-7]$/ && index($1, ":") {
      flush()
      addr = tolower($1)
      if (split(addr, part, ":") == 2) addr = "0000:" addr
      top = 0
      next
    }
    $1 ~ /^[0-9a-fA-F]+:$/ && addr != "" {
      row = hexval(substr($1, 1, length($1) - 1))
      for (i = 2; i <= NF; i++) b[row + i - 2] = tolower($i)
      if (row + NF - 2 > top) top = row + NF - 2
      next
    }
    END { flush() }' "$1"
}

sys=$root/sys
mkdir -p "$sys/bus/pci/devices" "$sys/bus/pci/drivers" "$sys/module"

# byte OFFSET / word OFFSET (little-endian) of the current function's $hex, as hex digits
byte() { echo "${hex:$(($1 * 2)):2}"; }
word() { echo "$(byte $(($1 + 1)))$(byte "$1")"; }

count=0
while read -r addr _ hex; do
  vendor=$(word 0) device=$(word 2) revision=$(byte 8)
  class="$(byte 11)$(byte 10)$(byte 9)"
  header_type=$((0x$(byte 14) & 0x7f))
  svendor=0000 sdevice=0000
  case $header_type in
    0) svendor=$(word 44) sdevice=$(word 46) ;;
    2) svendor=$(word 64) sdevice=$(word 66) ;;
    1)
      # Walk the capability list (status bit 4 says there is one) for SSVID (0x0d).
      if (( 0x$(byte 6) & 0x10 )); then
        pos=$((0x$(byte 52) & 0xfc)) hops=0
        while [ "$pos" -ge 64 ] && [ "$pos" -lt 255 ] && [ $hops -lt 48 ]; do
          if [ "$(byte "$pos")" = 0d ]; then
            svendor=$(word $((pos + 4))) sdevice=$(word $((pos + 6)))
            break
          fi
          pos=$((0x$(byte $((pos + 1))) & 0xfc)) hops=$((hops + 1))
        done
      fi
      ;;
  esac

  domain=${addr%%:*}
  host_bridge="pci$domain:00"
  dev_dir=$sys/devices/$host_bridge/$addr
  mkdir -p "$dev_dir"
  printf '%b' "$(sed 's/../\\x&/g' <<< "$hex")" > "$dev_dir/config"
  printf '0x%s\n' "$vendor" > "$dev_dir/vendor"
  printf '0x%s\n' "$device" > "$dev_dir/device"
  printf '0x%s\n' "$svendor" > "$dev_dir/subsystem_vendor"
  printf '0x%s\n' "$sdevice" > "$dev_dir/subsystem_device"
  printf '0x%s\n' "$class" > "$dev_dir/class"
  printf '0x%s\n' "$revision" > "$dev_dir/revision"
  printf '%d\n' "$((0x$(byte 60)))" > "$dev_dir/irq"
  printf '%s\n' "${numa_of[$addr]:-0}" > "$dev_dir/numa_node"
  for _ in $(seq 13); do echo "0x0000000000000000 0x0000000000000000 0x0000000000000000"; done \
    > "$dev_dir/resource"
  ln -sfn ../../../bus/pci "$dev_dir/subsystem"
  ln -sfn "../../../devices/$host_bridge/$addr" "$sys/bus/pci/devices/$addr"

  driver=
  if [ "$vendor" = 10de ]; then
    case $class in
      03*) driver=nvidia ;;
      0403*) driver=snd_hda_intel ;;
    esac
  fi
  [ -z "${driver_of[$addr]+set}" ] || driver=${driver_of[$addr]}
  if [ -n "$driver" ]; then
    mkdir -p "$sys/bus/pci/drivers/$driver" "$sys/module/$driver"
    ln -sfn "../../../bus/pci/drivers/$driver" "$dev_dir/driver"
    ln -sfn "../../../../devices/$host_bridge/$addr" "$sys/bus/pci/drivers/$driver/$addr"
    ln -sfn "../../../../module/$driver" "$sys/bus/pci/drivers/$driver/module"
  fi
  count=$((count + 1))
done < <(parse_dump "$dump")

[ "$count" -gt 0 ] || { echo "$0: no PCI function in $dump" >&2; exit 1; }
for module in ${extra_modules[@]+"${extra_modules[@]}"}; do mkdir -p "$sys/module/$module"; done
