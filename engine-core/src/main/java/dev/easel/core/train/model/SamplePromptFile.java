package dev.easel.core.train.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads kohya's sample prompt file: one prompt per line, {@code #} comments, options after {@code --}:
 * {@code a cat --n blurry --w 512 --h 768 --d 42 --l 7 --s 28 --ss euler_a}.
 */
public final class SamplePromptFile {
    private SamplePromptFile() {
    }

    /** Parses a prompt file; {@code defaultSampler} applies where a line has no {@code --ss}. */
    public static List<SamplePrompt> read(Path file, String defaultSampler) throws IOException {
        List<SamplePrompt> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            try {
                out.add(parse(trimmed, defaultSampler));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** Parses one line. */
    public static SamplePrompt parse(String line, String defaultSampler) {
        String[] parts = (" " + line).split(" --");
        String prompt = parts[0].strip();
        String negative = "";
        int width = 512;
        int height = 512;
        long seed = -1;
        double scale = 7.5;
        int steps = 30;
        String sampler = defaultSampler;
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i].strip();
            int space = part.indexOf(' ');
            String key = (space < 0 ? part : part.substring(0, space)).toLowerCase(Locale.ROOT);
            String value = space < 0 ? "" : part.substring(space + 1).strip();
            try {
                switch (key) {
                    case "n" -> negative = value;
                    case "w" -> width = Integer.parseInt(value);
                    case "h" -> height = Integer.parseInt(value);
                    case "d" -> seed = Long.parseLong(value);
                    case "l" -> scale = Double.parseDouble(value);
                    case "s" -> steps = Integer.parseInt(value);
                    case "ss" -> sampler = value;
                    default -> throw new IllegalArgumentException("unknown prompt option '--" + key
                            + "' (known: --n --w --h --d --l --s --ss)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("prompt option '--" + key + "' needs a number, not '" + value + "'");
            }
        }
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("empty prompt");
        }
        return new SamplePrompt(prompt, negative, width, height, seed, scale, steps, sampler);
    }
}
