# The frontend component: a JavaScript single-page app talking to backend.
{ ... }:
{
  perSystem = { pkgs, self', ... }: {
    packages.frontend = pkgs.mkDerivation {
      name = "frontend-2.0.0";
      src = ../src;
      packageJson = ../package.json;
      buildInputs = [ pkgs.nodejs ];
      buildScript = ''
        mkdir -p "$out/share/frontend"
        cp "$packageJson" "$out/share/frontend/package.json"
        cp -r "$src" "$out/share/frontend/src"
      '';
    };

    devShells.frontend = pkgs.mkShell {
      name = "frontend-shell";
      inputsFrom = [ self'.devShells.backend ];
      packages = [ pkgs.nodejs ];
      MONOREPO_COMPONENT = "frontend";
      FRONTEND_PORT = "3000";
      BACKEND_BIN = "${self'.packages.backend}/bin/backend";
      shellHook = ''
        export FRONTEND_HOOK=ran
      '';
    };
  };
}
