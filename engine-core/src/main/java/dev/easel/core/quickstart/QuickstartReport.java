package dev.easel.core.quickstart;

import dev.easel.core.format.AtomicOutputFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The Markdown report a quickstart run leaves in its output folder: one section per step, in run order. */
public final class QuickstartReport {
    private final StringBuilder text = new StringBuilder();
    private final List<String> steps = new ArrayList<>();

    public QuickstartReport(String title) {
        text.append("# ").append(title).append("\n\n");
    }

    /** Starts a section for a step. */
    public QuickstartReport section(String title) {
        steps.add(title);
        text.append("## ").append(steps.size()).append(". ").append(title).append("\n\n");
        return this;
    }

    /** A paragraph. */
    public QuickstartReport paragraph(String paragraph) {
        text.append(paragraph).append("\n\n");
        return this;
    }

    /** A table; cells are escaped for Markdown. */
    public QuickstartReport table(List<String> header, List<List<String>> rows) {
        row(header);
        text.append('|');
        header.forEach(h -> text.append("---|"));
        text.append('\n');
        rows.forEach(this::row);
        text.append('\n');
        return this;
    }

    /** A fenced block, for commands and their output. */
    public QuickstartReport code(String code) {
        text.append("```\n").append(code.strip()).append("\n```\n\n");
        return this;
    }

    /** The titles of the sections written so far. */
    public List<String> steps() {
        return List.copyOf(steps);
    }

    /** The report as Markdown. */
    public String markdown() {
        return text.toString();
    }

    /** Writes the report atomically. */
    public void write(Path file) throws IOException {
        try (AtomicOutputFile out = AtomicOutputFile.create(file)) {
            ByteBuffer bytes = ByteBuffer.wrap(markdown().getBytes(StandardCharsets.UTF_8));
            long position = 0;
            while (bytes.hasRemaining()) {
                position += out.channel().write(bytes, position);
            }
            out.commit();
        }
    }

    private void row(List<String> cells) {
        text.append('|');
        for (String c : cells) {
            text.append(' ').append(c.replace("|", "\\|").replace("\n", " ")).append(" |");
        }
        text.append('\n');
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }
}
