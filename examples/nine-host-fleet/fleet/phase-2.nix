# Phase 2, in the controller's config format: hosts graduate to automatic deployment one by
# one. A release reaches the waves in order, each after the one before succeeded and soaked.
# gpc0, hsb1, hsb8 and csb1 no longer have a declared policy: each starts on manual and is
# switched to auto (`flotilla policy HOST auto`) once `flotilla graduation` says it is
# eligible; a failed deployment or a rollback puts it back on manual by itself.
{
  hosts = {
    # Last, maybe never automatic: locked to manual.
    hsb0.policy = "manual";
    csb0.policy = "manual";
    imac0.policy = "monitor";
    mba-imac-work.policy = "monitor";
    mba-mbp-work.policy = "monitor";
  };
  rollout.waves = [
    {
      # The guinea pig: eligible after a week without a failed deployment or rollback.
      name = "guinea-pig";
      hosts = [ "gpc0" ];
      soakSeconds = 24 * 3600;
      graduation.stableDays = 7;
    }
    {
      # After gpc0 stable 2+ weeks: gpc0 has run on auto for 14 days without a failed
      # deployment or a rollback (one of those demotes it and starts the count again).
      name = "main";
      hosts = [
        "hsb1"
        "hsb8"
        "csb1"
      ];
      soakSeconds = 24 * 3600;
      graduation.after = [
        {
          host = "gpc0";
          stableDays = 14;
        }
      ];
    }
    {
      # Still approved by hand, after everything else took the release.
      name = "critical";
      hosts = [
        "hsb0"
        "csb0"
      ];
      soakSeconds = 2 * 24 * 3600;
    }
  ];
}
