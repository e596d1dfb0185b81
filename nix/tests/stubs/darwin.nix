# The nix-darwin options Flotilla's module sets, typed as nix-darwin declares them (a
# subset: setting anything not declared here fails).
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [ ./common.nix ];

  options = {
    networking.hostName = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    launchd.daemons = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.serviceConfig = mkOption {
            type = import ./launchd.nix { inherit lib; };
          };
        }
      );
      default = { };
    };
  };
}
