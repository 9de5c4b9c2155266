package dev.easel.plugins.train.ti;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How a batch's captions become the prompts the embedding trains under. Three ways, as the tools users come from do
 * it:
 * <ul>
 *   <li>kohya's {@code use_object_template} / {@code use_style_template}: captions ignored, each image gets a random
 *       template of the object or style list with the word filled in;</li>
 *   <li>an AUTOMATIC1111 template file: each image gets a random line, {@code [name]} replaced by the word and
 *       {@code [filewords]} by the image's caption;</li>
 *   <li>neither: the captions as they are (kohya's default), which must then contain the word.</li>
 * </ul>
 * The choice of template for an image depends only on the step's seed and its place in the batch, so a resumed job
 * makes the same choices as an uninterrupted one.
 */
final class PromptTemplates {
    /** Built-in template sets, usable as {@code template_file}. */
    static final List<String> BUILT_IN = List.of("object", "style", "object_filewords", "style_filewords");

    private final List<String> lines;

    private PromptTemplates(List<String> lines) {
        this.lines = lines;
    }

    /** The captions unchanged. */
    static PromptTemplates captions() {
        return new PromptTemplates(null);
    }

    /**
     * Selects the templates from the method's parameters.
     *
     * @throws IllegalArgumentException for conflicting switches, an unreadable or empty file, or a file in which no
     *                                  template names the word
     */
    static PromptTemplates select(boolean object, boolean style, String templateFile) throws IOException {
        String file = templateFile == null ? "" : templateFile.trim();
        if (object && style) {
            throw new IllegalArgumentException("use_object_template and use_style_template are both set; choose one");
        }
        if ((object || style) && !file.isEmpty()) {
            throw new IllegalArgumentException((object ? "use_object_template" : "use_style_template")
                    + " and template_file are both set; choose one");
        }
        if (object) {
            return new PromptTemplates(builtIn("object"));
        }
        if (style) {
            return new PromptTemplates(builtIn("style"));
        }
        if (file.isEmpty()) {
            return captions();
        }
        String name = file.toLowerCase(Locale.ROOT);
        if (BUILT_IN.contains(name)) {
            return new PromptTemplates(builtIn(name));
        }
        Path path = Path.of(file);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("template_file '" + file + "' is neither a file nor one of the built-in"
                    + " templates " + BUILT_IN);
        }
        List<String> lines = parse(Files.readString(path, StandardCharsets.UTF_8));
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("template_file " + path + " has no template lines");
        }
        if (lines.stream().noneMatch(l -> l.contains("[name]"))) {
            throw new IllegalArgumentException("template_file " + path + ": no line contains [name], so the embedding"
                    + " would never be part of a prompt");
        }
        return new PromptTemplates(lines);
    }

    private static List<String> builtIn(String name) throws IOException {
        String set = name.startsWith("object") ? "object" : "style";
        try (InputStream in = PromptTemplates.class.getResourceAsStream("templates/" + set + ".txt")) {
            if (in == null) {
                throw new IOException("built-in template set '" + set + "' is missing from the plugin");
            }
            List<String> lines = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            if (name.endsWith("_filewords")) {
                lines = lines.stream().map(l -> l + ", [filewords]").toList();
            }
            return lines;
        }
    }

    /** Non-blank lines, trimmed, as A1111 reads a template file. */
    static List<String> parse(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\\R")) {
            if (!line.isBlank()) {
                out.add(line.strip());
            }
        }
        return out;
    }

    /** Whether prompts are the captions unchanged. */
    boolean usesCaptions() {
        return lines == null;
    }

    /** The templates, {@code [name]} and {@code [filewords]} unreplaced. */
    List<String> lines() {
        return lines == null ? List.of() : List.copyOf(lines);
    }

    /** The prompt of each image of a batch. */
    List<String> prompts(List<String> captions, String word, long stepSeed) {
        if (lines == null) {
            return captions;
        }
        List<String> out = new ArrayList<>(captions.size());
        for (int i = 0; i < captions.size(); i++) {
            SplittableRandom r = new SplittableRandom(stepSeed * 0x9E3779B97F4A7C15L + i);
            String template = lines.get(r.nextInt(lines.size()));
            out.add(fill(template, word, captions.get(i)));
        }
        return out;
    }

    /** One template filled in; a {@code [filewords]} with no caption leaves no dangling comma. */
    static String fill(String template, String word, String caption) {
        String words = caption == null ? "" : caption.strip();
        String s = template.replace("[name]", word);
        if (words.isEmpty()) {
            s = s.replaceAll("\\s*,\\s*\\[filewords]", "").replaceAll("\\[filewords]\\s*,?\\s*", "");
        } else {
            s = s.replace("[filewords]", words);
        }
        return s.strip();
    }
}
