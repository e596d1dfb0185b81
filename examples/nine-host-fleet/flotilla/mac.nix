# The Macs: the agent as a launchd agent of the user, in monitor mode (facts and what runs
# against what the branch declares; deployments are refused). `host` is set per machine in
# flake.nix.
{ config, ... }:
{
  services.flotilla.agent = {
    enable = true;
    controllerUrl = "wss://thymis.barta.cm/api/v1/agent/ws";
    # From `flotilla host add NAME --mode monitor --os darwin`, written once by hand.
    enrollmentTokenFile = "${config.home.homeDirectory}/.config/flotilla/enrollment-token";
  };
}
