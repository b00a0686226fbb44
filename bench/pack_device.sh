#!/usr/bin/env bash
# Packs a built tessera with every shared library it loads, and OpenMPI's launcher with its
# components, into one folder that runs on a machine without the Debian packages:
#   bench/pack_device.sh BUILD_DIR OUT_DIR
#   OUT_DIR/run.sh tessera ARGS...           tessera through the carried loader
#   OUT_DIR/run.sh orterun -n N ... tessera ARGS...   the same under OpenMPI (bench/mpi_scaling.sh)
# Used to measure scaling on the 16-core device machine (docs/performance.md).
set -euo pipefail
build="$1"; out="$2"
rm -rf "$out"; mkdir -p "$out/bin" "$out/lib" "$out/mca/ompi" "$out/mca/pmix"
cp "$build/cli/tessera" /usr/bin/orterun "$out/bin/"
ompi=/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
pmix=/usr/lib/x86_64-linux-gnu/pmix2/lib/pmix
# Components needed for one node over shared memory; the rest (network fabrics) stay behind.
for c in "$ompi"/mca_{btl_self,btl_vader,pml_ob1,bml_r2,coll_basic,coll_libnbc,coll_self,coll_tuned,coll_sm,osc_sm,osc_pt2pt,fcoll_*,io_*,sharedfp_*,vprotocol_*,rte_orte,ess_hnp,ess_env,ess_singleton,ess_pmi,ess_tool,odls_default,odls_pspawn,oob_tcp,plm_isolated,plm_rsh,ras_simulator,rmaps_*,routed_*,rml_oob,schizo_ompi,schizo_orte,state_hnp,state_app,state_orted,state_tool,errmgr_default_*,filem_raw,grpcomm_direct,iof_hnp,iof_orted,iof_tool,regx_*,reachable_weighted,rtc_hwloc,snapc_full,sstore_central,pmix_ext3x,pmix_isolated,ess_slurm,plm_slurm,ras_slurm,fbtl_posix,fs_ufs,atomic_basic,state_novm,shmem_mmap,shmem_posix,shmem_sysv,patcher_overwrite,dfs_*,allocator_*,rcache_grdma,mpool_hugepage,compress_*,crs_none,timer_linux,if_linux_ipv4,if_linux_ipv6,if_posix_ipv4,pstat_linux,reachable_netlink,btl_tcp,op_avx,topo_basic,topo_treematch,common_*,installdirs_*,memchecker_*,memory_*}.so; do
  [ -e "$c" ] && cp "$c" "$out/mca/ompi/"
done
cp "$pmix"/*.so "$out/mca/pmix/"
libs() { ldd "$@" 2>/dev/null | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'; }
{ libs "$out/bin/tessera" "$out/bin/orterun" "$out"/mca/ompi/*.so "$out"/mca/pmix/*.so; } | sort -u |
  while read -r l; do cp -L "$l" "$out/lib/"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib/"
cp -r /usr/share/openmpi "$out/share-openmpi"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# run.sh tessera ARGS... | run.sh orterun ORTERUN-ARGS... tessera ARGS...
here="$(cd "$(dirname "$0")" && pwd)"
loader=("$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib")
export OMPI_MCA_mca_base_component_path="$here/mca/ompi" PMIX_MCA_mca_base_component_path="$here/mca/pmix"
export OPAL_PREFIX="$here" OMPI_MCA_mca_base_component_show_load_errors=0
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPAL_PKGDATADIR="$here/share-openmpi"
if [ "$1" = orterun ]; then
  shift; args=()
  for a in "$@"; do if [ "$a" = tessera ]; then args+=("${loader[@]}" "$here/bin/tessera"); else args+=("$a"); fi; done
  exec "${loader[@]}" "$here/bin/orterun" "${args[@]}"
fi
shift; exec "${loader[@]}" "$here/bin/tessera" "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
