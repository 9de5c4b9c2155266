package dev.easel.core.plugin;

import dev.easel.api.SemanticVersion;

/**
 * A range of semantic versions in OSGi notation: {@code [1.0,2.0)}, {@code (1.2,1.5]}, {@code [1.2.3,1.2.3]};
 * a bare version {@code 1.2} means "at least 1.2", as in OSGi.
 */
public final class VersionRange {
    private final SemanticVersion low;
    private final boolean lowInclusive;
    private final SemanticVersion high;
    private final boolean highInclusive;
    private final String text;

    private VersionRange(SemanticVersion low, boolean lowInclusive, SemanticVersion high, boolean highInclusive,
                         String text) {
        this.low = low;
        this.lowInclusive = lowInclusive;
        this.high = high;
        this.highInclusive = highInclusive;
        this.text = text;
    }

    /** Every version. */
    public static final VersionRange ANY = new VersionRange(SemanticVersion.of(0, 0, 0), true, null, false, "any");

    /**
     * Parses a range.
     *
     * @throws IllegalArgumentException naming the text and the expected notation
     */
    public static VersionRange parse(String text) {
        String t = text.trim();
        try {
            if (t.isEmpty()) {
                throw new IllegalArgumentException("empty");
            }
            char first = t.charAt(0);
            if (first == '[' || first == '(') {
                char last = t.charAt(t.length() - 1);
                if (last != ']' && last != ')') {
                    throw new IllegalArgumentException("unterminated");
                }
                String[] parts = t.substring(1, t.length() - 1).split(",", -1);
                if (parts.length != 2) {
                    throw new IllegalArgumentException("expected two bounds");
                }
                SemanticVersion lo = SemanticVersion.parse(parts[0]);
                SemanticVersion hi = SemanticVersion.parse(parts[1]);
                if (lo.compareTo(hi) > 0) {
                    throw new IllegalArgumentException("lower bound above upper bound");
                }
                return new VersionRange(lo, first == '[', hi, last == ']', t);
            }
            return new VersionRange(SemanticVersion.parse(t), true, null, false, t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a version range: '" + text + "' (" + e.getMessage()
                    + "); use for example [1.0,2.0) or 1.2", e);
        }
    }

    /** Whether the version lies in the range. */
    public boolean includes(SemanticVersion v) {
        int c = v.compareTo(low);
        if (c < 0 || (c == 0 && !lowInclusive)) {
            return false;
        }
        if (high == null) {
            return true;
        }
        c = v.compareTo(high);
        return c < 0 || (c == 0 && highInclusive);
    }

    @Override
    public String toString() {
        return text;
    }
}
