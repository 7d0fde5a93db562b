# Sourced by Tally's scripts: finds a JDK >= 21 and exports JAVA_HOME, or explains what is missing.
# Order: $JAVA_HOME, the `java` on PATH, then the newest JDK under /usr/lib/jvm.

tally_java_major() { # prints the major version of the JDK at $1 (its bin/java and bin/javac must exist)
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

tally_find_jdk() {
    local candidates=() c v best="" best_v=0
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v java >/dev/null 2>&1; then
        c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        candidates+=("$c")
    fi
    for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
    for c in "${candidates[@]}"; do
        v=$(tally_java_major "$c" 2>/dev/null) || continue
        [ -n "$v" ] || continue
        if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$c; best_v=$v; fi
        # An explicit JAVA_HOME that is new enough wins over anything newer elsewhere.
        if [ "$c" = "${JAVA_HOME:-}" ] && [ "$v" -ge 21 ]; then best=$c; best_v=$v; break; fi
    done
    if [ -z "$best" ]; then
        echo "tally: no JDK 21 or newer found (looked at JAVA_HOME=${JAVA_HOME:-<unset>}, the java on PATH, and /usr/lib/jvm/*)." >&2
        echo "tally: install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME to it." >&2
        return 1
    fi
    export JAVA_HOME=$best
    export PATH="$JAVA_HOME/bin:$PATH"
}

tally_require_maven() {
    if ! command -v mvn >/dev/null 2>&1; then
        echo "tally: Apache Maven (mvn) is needed to build Tally and was not found on PATH (apt-get install maven)." >&2
        return 1
    fi
}
