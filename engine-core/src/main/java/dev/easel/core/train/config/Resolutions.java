package dev.easel.core.train.config;

/** kohya's resolution values: {@code 512}, {@code 512,768} or {@code [512, 768]} (width, height). */
public final class Resolutions {
    private Resolutions() {
    }

    /** Parses a resolution; {@code source} and {@code key} name it in errors. */
    public static int[] parse(String source, String key, Object value) {
        String text = value instanceof java.util.List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
                : String.valueOf(value);
        String[] parts = text.replace("[", "").replace("]", "").replace("(", "").replace(")", "").split("[,x ]+");
        try {
            int w;
            int h;
            if (parts.length == 1) {
                w = h = Integer.parseInt(parts[0].trim());
            } else if (parts.length == 2) {
                w = Integer.parseInt(parts[0].trim());
                h = Integer.parseInt(parts[1].trim());
            } else {
                throw new NumberFormatException();
            }
            if (w < 8 || h < 8 || w % 8 != 0 || h % 8 != 0) {
                throw new ConfigException(source, key, "'" + key + "' = " + text
                        + " must be a positive multiple of 8");
            }
            return new int[] {w, h};
        } catch (NumberFormatException e) {
            throw new ConfigException(source, key, "'" + key + "' must be SIZE or WIDTH,HEIGHT, not '" + text + "'");
        }
    }
}
