# Shared set-up: gives every perSystem module a `pkgs` argument. Defines no
# component outputs.
{
  perSystem = { system, ... }: {
    _module.args.pkgs = import ./lib/pkgs.nix system;
  };
}
