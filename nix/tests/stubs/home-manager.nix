# The home-manager options Flotilla's module sets, typed as home-manager declares them (a
# subset: setting anything not declared here fails).
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  # home-manager's systemd unit type: sections of keys whose values are primitives or lists.
  primitive = types.oneOf [
    types.bool
    types.int
    types.str
    types.path
  ];
  unit = types.attrsOf (types.attrsOf (types.either primitive (types.listOf primitive)));
in
{
  imports = [ ./common.nix ];

  options = {
    home.username = mkOption { type = types.str; };
    home.homeDirectory = mkOption { type = types.path; };
    home.stateVersion = mkOption {
      type = types.str;
      default = "25.05";
    };
    xdg.stateHome = mkOption {
      type = types.path;
      default = "${config.home.homeDirectory}/.local/state";
    };
    launchd.agents = mkOption {
      type = types.attrsOf (
        types.submodule {
          options = {
            enable = mkOption {
              type = types.bool;
              default = false;
            };
            config = mkOption {
              type = import ./launchd.nix { inherit lib; };
            };
          };
        }
      );
      default = { };
    };
    systemd.user.services = mkOption {
      type = types.attrsOf unit;
      default = { };
    };
  };
}
