# The analytics component: a Python application. Its devShell is named after
# the language, not the component.
{ ... }:
{
  perSystem = { pkgs, ... }: {
    packages.analytics = pkgs.mkDerivation {
      name = "analytics-0.3.1";
      pyproject = ../pyproject.toml;
      src = ../src;
      buildInputs = [ pkgs.python3 ];
      buildScript = ''
        mkdir -p "$out/share/analytics" "$out/bin"
        cp "$pyproject" "$out/share/analytics/pyproject.toml"
        cp -r "$src" "$out/share/analytics/src"
        printf '#!/bin/bash\nexec python3 -m analytics "$@"\n' > "$out/bin/analytics"
        chmod +x "$out/bin/analytics"
      '';
    };

    devShells.python = pkgs.mkShell {
      name = "analytics-shell";
      packages = [ pkgs.python3 ];
      MONOREPO_COMPONENT = "analytics";
      ANALYTICS_PYPROJECT = "${../pyproject.toml}";
      PYTHONDONTWRITEBYTECODE = "1";
      shellHook = ''
        export ANALYTICS_HOOK=ran
      '';
    };
  };
}
