# csb1: the controller, at https://thymis.barta.cm behind Traefik (which already runs there
# with a `websecure` entry point and a `letsencrypt` certificate resolver). DNS: an A/AAAA
# record (or a CNAME) for thymis.barta.cm pointing at csb1.
{ ... }:
let
  # 1 while every host waits for manual approval; 2 once hosts may graduate to auto.
  phase = 1;
in
{
  services.flotilla.controller = {
    enable = true;
    traefik = {
      enable = true;
      hostName = "thymis.barta.cm";
      entryPoints = [ "websecure" ];
      certResolver = "letsencrypt";
    };
    repository = {
      url = "https://github.com/OWNER/nixcfg.git";
      branch = "main";
      # sops-nix or agenix secrets (or files made by hand, mode 0600): never the store.
      tokenFile = "/run/secrets/flotilla/github-token";
      webhookSecretFile = "/run/secrets/flotilla/github-webhook-secret";
    };
    # csb1 is small: build on gpc0 only. The Nix daemon reaches gpc0 over SSH (through the
    # VPN both are in) with this key, as the user gpc0's builder.nix creates.
    builds.remoteOnly = true;
    remoteBuilders = [
      {
        hostName = "gpc0";
        sshUser = "nix-builder";
        sshKey = "/root/.ssh/nix-builder";
        systems = [ "x86_64-linux" ];
        maxJobs = 8;
      }
    ];
    settings = import (if phase == 1 then ../fleet/phase-1.nix else ../fleet/phase-2.nix);
  };

  services.traefik.enable = true;
}
