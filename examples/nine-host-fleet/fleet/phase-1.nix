# Phase 1, in the controller's config format (its `hosts` section): every deployment to
# every host waits for a person's approval. The policies are declared here, which locks
# them: nobody can switch a host to auto from the web UI or the CLI; that takes a commit
# that moves to phase 2. The Macs are monitor-only (their agents say so too).
{
  hosts = {
    csb1.policy = "manual";
    csb0.policy = "manual";
    hsb0.policy = "manual";
    hsb1.policy = "manual";
    hsb8.policy = "manual";
    gpc0.policy = "manual";
    imac0.policy = "monitor";
    mba-imac-work.policy = "monitor";
    mba-mbp-work.policy = "monitor";
  };
}
