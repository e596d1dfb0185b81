# gpc0: a remote builder for the controller on csb1. csb1's Nix daemon logs in as
# nix-builder with the key in csb1's remoteBuilders.
{ ... }:
{
  users.users.nix-builder = {
    isNormalUser = true;
    group = "nix-builder";
    openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAREPLACEwithCsb1sNixBuilderPublicKey root@csb1" ];
  };
  users.groups.nix-builder = { };
  # Setting it replaces nixpkgs' default of [ "root" ]: keep root.
  nix.settings.trusted-users = [
    "root"
    "nix-builder"
  ];
}
