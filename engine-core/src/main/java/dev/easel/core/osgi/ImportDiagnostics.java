package dev.easel.core.osgi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;
import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;

/**
 * Explains why a bundle cannot resolve in terms a plugin author acts on: which shared package it imports at which
 * range, and which version this host provides. Felix's own message is kept as a fallback.
 */
final class ImportDiagnostics {
    private ImportDiagnostics() {
    }

    /** Problems with the bundle's imports of host packages; empty when every shared import is satisfiable. */
    static List<String> check(Manifest manifest, Map<String, String> hostPackages) {
        List<String> problems = new ArrayList<>();
        String header = manifest.getMainAttributes().getValue("Import-Package");
        for (ManifestHeaders.Clause clause : ManifestHeaders.parse(header)) {
            String pkg = clause.path();
            boolean optional = "optional".equals(clause.attribute("resolution:"));
            String rangeText = clause.attribute("version");
            String provided = hostPackages.get(pkg);
            boolean shared = pkg.startsWith("dev.easel.api") || pkg.startsWith("ai.djl")
                    || pkg.startsWith("com.fasterxml.jackson") || pkg.startsWith("org.slf4j");
            if (!shared || optional) {
                continue;
            }
            String what = pkg.startsWith("dev.easel.api") ? "engine-api package " : "host package ";
            if (provided == null) {
                problems.add("imports " + what + pkg + (rangeText == null ? "" : " " + rangeText)
                        + ", which this host does not export");
                continue;
            }
            if (rangeText != null) {
                VersionRange range;
                try {
                    range = VersionRange.valueOf(rangeText);
                } catch (IllegalArgumentException e) {
                    problems.add("imports " + pkg + " with an invalid version range '" + rangeText + "'");
                    continue;
                }
                if (!range.includes(Version.parseVersion(provided))) {
                    problems.add("requires " + what + pkg + " " + rangeText + " but this host provides " + provided);
                }
            }
        }
        return problems;
    }
}
