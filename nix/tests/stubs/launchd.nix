# The launchd job keys the modules set, typed as nix-darwin's launchd module and
# home-manager's launchd.agents declare them (a subset: an undeclared key is an error).
{ lib }:
let
  inherit (lib) mkOption types;
  optional =
    type:
    mkOption {
      type = types.nullOr type;
      default = null;
    };
in
types.submodule {
  options = {
    Label = mkOption { type = types.str; };
    Program = optional types.path;
    ProgramArguments = optional (types.listOf types.str);
    EnvironmentVariables = optional (types.attrsOf types.str);
    UserName = optional types.str;
    GroupName = optional types.str;
    WorkingDirectory = optional types.path;
    RunAtLoad = optional types.bool;
    KeepAlive = optional (types.either types.bool (types.attrsOf types.anything));
    ThrottleInterval = optional types.int;
    StandardOutPath = optional types.path;
    StandardErrorPath = optional types.path;
    ProcessType = optional (
      types.enum [
        "Background"
        "Standard"
        "Adaptive"
        "Interactive"
      ]
    );
  };
}
