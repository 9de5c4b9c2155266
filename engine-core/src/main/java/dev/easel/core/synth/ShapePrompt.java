package dev.easel.core.synth;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a prompt of the synthetic dataset's grammar asks for ("a red circle on a blue background, striped"), so
 * that a sample can be checked against its own prompt. Extra words around the phrase (a LoRA trigger, an
 * embedding's name) are allowed.
 *
 * @param shape   the shape word's shape, or null when the prompt names no known shape (a new word)
 * @param texture null when the prompt names none
 */
public record ShapePrompt(NamedColor color, ShapeKind shape, NamedColor background, Texture texture) {
    private static final Pattern PHRASE = Pattern.compile(
            "\\b(?:an?\\s+)?(\\w+)\\s+([\\w-]+)\\s+on\\s+an?\\s+(\\w+)\\s+background(?:\\s*,\\s*(\\w+))?");

    /** Parses the first "COLOR SHAPE on a COLOR background[, TEXTURE]" phrase of a prompt. */
    public static Optional<ShapePrompt> parse(String prompt) {
        Matcher m = PHRASE.matcher(prompt.toLowerCase(Locale.ROOT));
        while (m.find()) {
            NamedColor fg = NamedColor.ofWord(m.group(1));
            NamedColor bg = NamedColor.ofWord(m.group(3));
            if (fg != null && bg != null) {
                Texture t = m.group(4) == null ? null : Texture.ofWord(m.group(4));
                return Optional.of(new ShapePrompt(fg, ShapeKind.ofWord(m.group(2)), bg, t));
            }
        }
        return Optional.empty();
    }
}
