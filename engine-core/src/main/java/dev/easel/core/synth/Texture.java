package dev.easel.core.synth;

import java.util.Locale;

/** The background texture of a scene: plain, stripes or dots in a shade of the background colour. */
public enum Texture {
    PLAIN, STRIPED, DOTTED;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The texture named by a caption word, or null. */
    public static Texture ofWord(String word) {
        for (Texture t : values()) {
            if (t.word().equals(word.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        return null;
    }
}
