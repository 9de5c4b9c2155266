package dev.easel.core.sd.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's attention syntax ({@code modules/prompt_parser.py parse_prompt_attention}): {@code (text)} ×1.1,
 * {@code [text]} ÷1.1, {@code (text:1.5)} ×1.5, nesting multiplies, {@code \(} etc. are literal, unbalanced
 * brackets close at the end, {@code BREAK} starts a new 75-token chunk. Runs of equal weight are merged.
 */
public final class PromptParser {
    /** A piece of prompt text and its weight; {@link #isBreak()} marks a {@code BREAK}. */
    public record Fragment(String text, double weight) {
        public boolean isBreak() {
            return weight == -1 && "BREAK".equals(text);
        }
    }

    private static final Pattern ATTENTION = Pattern.compile(
            "\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|[^\\\\()\\[\\]:]+|:");
    private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*", Pattern.DOTALL);
    private static final double ROUND = 1.1;
    private static final double SQUARE = 1 / 1.1;

    private PromptParser() {
    }

    /** Parses a prompt into weighted fragments. */
    public static List<Fragment> parse(String prompt) {
        List<String> texts = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        List<Integer> round = new ArrayList<>();
        List<Integer> square = new ArrayList<>();
        Matcher m = ATTENTION.matcher(prompt);
        while (m.find()) {
            String text = m.group();
            String weight = m.group(1);
            if (text.startsWith("\\")) {
                texts.add(text.substring(1));
                weights.add(1.0);
            } else if (text.equals("(")) {
                round.add(texts.size());
            } else if (text.equals("[")) {
                square.add(texts.size());
            } else if (weight != null && !round.isEmpty()) {
                multiply(weights, round.remove(round.size() - 1), parseWeight(weight));
            } else if (text.equals(")") && !round.isEmpty()) {
                multiply(weights, round.remove(round.size() - 1), ROUND);
            } else if (text.equals("]") && !square.isEmpty()) {
                multiply(weights, square.remove(square.size() - 1), SQUARE);
            } else {
                String[] parts = BREAK.split(text, -1);
                for (int i = 0; i < parts.length; i++) {
                    if (i > 0) {
                        texts.add("BREAK");
                        weights.add(-1.0);
                    }
                    texts.add(parts[i]);
                    weights.add(1.0);
                }
            }
        }
        for (int pos : round) {
            multiply(weights, pos, ROUND);
        }
        for (int pos : square) {
            multiply(weights, pos, SQUARE);
        }
        if (texts.isEmpty()) {
            texts.add("");
            weights.add(1.0);
        }
        int i = 0;
        while (i + 1 < texts.size()) {
            if (weights.get(i).equals(weights.get(i + 1))) {
                texts.set(i, texts.get(i) + texts.get(i + 1));
                texts.remove(i + 1);
                weights.remove(i + 1);
            } else {
                i++;
            }
        }
        List<Fragment> out = new ArrayList<>(texts.size());
        for (int k = 0; k < texts.size(); k++) {
            out.add(new Fragment(texts.get(k), weights.get(k)));
        }
        return out;
    }

    private static double parseWeight(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            // Python's float() rejects "1.2.3" too, and A1111 then fails; a prompt typo should not kill a job.
            return 1.0;
        }
    }

    private static void multiply(List<Double> weights, int from, double factor) {
        for (int p = from; p < weights.size(); p++) {
            weights.set(p, weights.get(p) * factor);
        }
    }
}
