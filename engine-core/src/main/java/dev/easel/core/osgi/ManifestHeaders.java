package dev.easel.core.osgi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses OSGi manifest header clauses ({@code pkg;version="[1,2)";uses:="a,b", other}) without a full bnd. */
final class ManifestHeaders {
    private ManifestHeaders() {
    }

    /** One clause: its path (package name) and attributes/directives ({@code version}, {@code uses:}). */
    record Clause(String path, Map<String, String> attributes) {
        String attribute(String name) {
            return attributes.get(name);
        }
    }

    /** Splits a header into clauses, honouring quotes. */
    static List<Clause> parse(String header) {
        List<Clause> out = new ArrayList<>();
        if (header == null || header.isBlank()) {
            return out;
        }
        for (String clause : split(header, ',')) {
            List<String> parts = split(clause, ';');
            if (parts.isEmpty()) {
                continue;
            }
            Map<String, String> attrs = new LinkedHashMap<>();
            List<String> paths = new ArrayList<>();
            for (String part : parts) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    paths.add(part.trim());
                } else {
                    String key = part.substring(0, eq).trim();
                    String value = part.substring(eq + 1).trim();
                    if (key.endsWith(":")) {
                        key = key.substring(0, key.length() - 1) + ":";
                    }
                    if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                        value = value.substring(1, value.length() - 1);
                    }
                    attrs.put(key, value);
                }
            }
            for (String path : paths) {
                out.add(new Clause(path, attrs));
            }
        }
        return out;
    }

    private static List<String> split(String text, char separator) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == separator && !quoted) {
                if (!cur.toString().isBlank()) {
                    out.add(cur.toString().trim());
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().trim());
        }
        return out;
    }
}
