package dev.easel.api;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version {@code MAJOR.MINOR.PATCH[-qualifier]} of a plugin service.
 *
 * <p>Ordering follows semver: a version with a qualifier ({@code 1.0.0-rc1}) sorts before the same version without
 * one. This is the "method version" axis: it changes when an algorithm's results or its file layout change, and is
 * independent of the Java package version of {@code engine-api} and of the bundle's own version.
 */
public final class SemanticVersion implements Comparable<SemanticVersion> {
    private static final Pattern PATTERN =
            Pattern.compile("(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:[-.]([0-9A-Za-z][0-9A-Za-z.-]*))?");

    private final int major;
    private final int minor;
    private final int patch;
    private final String qualifier;

    private SemanticVersion(int major, int minor, int patch, String qualifier) {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("version numbers must not be negative");
        }
        this.major = major;
        this.minor = minor;
        this.patch = patch;
        this.qualifier = qualifier == null ? "" : qualifier;
    }

    /** Creates {@code major.minor.patch}. */
    public static SemanticVersion of(int major, int minor, int patch) {
        return new SemanticVersion(major, minor, patch, "");
    }

    /**
     * Parses {@code 1}, {@code 1.2}, {@code 1.2.3}, {@code 1.2.3-qualifier} and the OSGi spelling
     * {@code 1.2.3.qualifier}.
     *
     * @throws IllegalArgumentException naming the text when it is not a version
     */
    public static SemanticVersion parse(String text) {
        Objects.requireNonNull(text, "text is null");
        Matcher m = PATTERN.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a semantic version: '" + text + "' (expected MAJOR.MINOR.PATCH)");
        }
        return new SemanticVersion(
                Integer.parseInt(m.group(1)),
                m.group(2) == null ? 0 : Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)),
                m.group(4));
    }

    public int major() {
        return major;
    }

    public int minor() {
        return minor;
    }

    public int patch() {
        return patch;
    }

    /** The pre-release qualifier, empty for a release. */
    public String qualifier() {
        return qualifier;
    }

    @Override
    public int compareTo(SemanticVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        if (c == 0) {
            c = Integer.compare(patch, o.patch);
        }
        if (c == 0 && !qualifier.equals(o.qualifier)) {
            if (qualifier.isEmpty()) {
                return 1;
            }
            if (o.qualifier.isEmpty()) {
                return -1;
            }
            c = qualifier.compareTo(o.qualifier);
        }
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SemanticVersion v && compareTo(v) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(major, minor, patch, qualifier);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (qualifier.isEmpty() ? "" : "-" + qualifier);
    }
}
