{
  description = "An example monorepo: analytics (Python), backend (Rust), frontend (JS) and infra";

  inputs = { };

  outputs = inputs@{ self, ... }:
    let
      flake-parts = import ./nix/lib/flake-parts.nix;
    in
    flake-parts.lib.mkFlake { inherit inputs; } {
      systems = [ "x86_64-linux" ];
      imports = [
        ./nix/pkgs.nix
        ./analytics/nix/outputs.nix
        ./backend/nix/outputs.nix
        ./frontend/nix/outputs.nix
        ./infra/nix/outputs.nix
      ];
    };
}
