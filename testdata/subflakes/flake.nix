{
  description = "An example monorepo of sub-flakes: backend and frontend are flakes of their own";

  inputs = {
    lib.url = "path:./lib";
    lib.flake = false;
    backend.url = "path:./backend";
    backend.inputs.lib.follows = "lib";
    frontend.url = "path:./frontend";
    frontend.inputs.lib.follows = "lib";
    frontend.inputs.backend.follows = "backend";
  };

  outputs = { self, lib, backend, frontend }:
    let
      pkgs = import "${lib}/pkgs.nix" "x86_64-linux";
    in
    {
      packages.x86_64-linux.default = pkgs.mkDerivation {
        name = "release-bundle";
        backend = backend.packages.x86_64-linux.default;
        frontend = frontend.packages.x86_64-linux.default;
        buildScript = ''
          mkdir -p "$out"
          ln -s "$backend" "$out/backend"
          ln -s "$frontend" "$out/frontend"
        '';
      };

      devShells.x86_64-linux.default = pkgs.mkShell {
        name = "release-shell";
        inputsFrom = [ backend.devShells.x86_64-linux.default frontend.devShells.x86_64-linux.default ];
        MONOREPO_COMPONENT = "root";
        shellHook = ''
          export ROOT_HOOK=ran
        '';
      };
    };
}
