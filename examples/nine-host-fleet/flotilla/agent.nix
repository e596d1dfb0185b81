# Every NixOS host: the agent, connected to the controller through Traefik. The host name
# is the host's networking.hostName.
{ config, ... }:
{
  services.flotilla.agent = {
    enable = true;
    controllerUrl = "wss://thymis.barta.cm/api/v1/agent/ws";
    # The controller's cache key, as `flotilla cache` prints it after the first start.
    trustedPublicKeys = [ "thymis.barta.cm-1:REPLACEwithTheKeyThatFlotillaCachePrints000=" ];
    # Written once by hand from `flotilla host add NAME` (see docs/INSTALL.md); used up on
    # the first start, when the agent enrolls its own key.
    enrollmentTokenFile = "/var/lib/flotilla-agent/enrollment-token";
    # After each activation: a failing check rolls the host back by itself.
    healthChecks = [
      {
        kind = "unit";
        unit = "sshd.service";
      }
    ]
    ++ (
      if config.networking.hostName == "csb1" then
        [
          {
            kind = "unit";
            unit = "traefik.service";
          }
          {
            kind = "http";
            url = "http://127.0.0.1:8080/healthz";
          }
        ]
      else
        [ ]
    );
  };
}
