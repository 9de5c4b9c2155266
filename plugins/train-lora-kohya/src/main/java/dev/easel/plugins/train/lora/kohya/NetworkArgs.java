package dev.easel.plugins.train.lora.kohya;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * kohya's {@code network_args} for {@code networks.lora} ({@code conv_dim=4 conv_alpha=1 rank_dropout=0.1
 * module_dropout=0.1}): the words the training core passes as one space-separated text.
 *
 * @param convDim       LoCon rank on 3x3 convs of resnets and samplers; 0 = no LoCon
 * @param convAlpha     LoCon alpha (kohya's default: 1)
 * @param rankDropout   per-sample rank mask probability
 * @param moduleDropout probability of skipping a module for a step
 */
record NetworkArgs(int convDim, double convAlpha, double rankDropout, double moduleDropout, Map<String, String> given) {
    private static final Set<String> KNOWN = Set.of("conv_dim", "conv_alpha", "rank_dropout", "module_dropout");

    /** Parses the words; an unknown or malformed word is an error naming it. */
    static NetworkArgs parse(String text) {
        Map<String, String> given = new LinkedHashMap<>();
        if (text != null) {
            for (String word : text.trim().split("\\s+")) {
                if (word.isEmpty()) {
                    continue;
                }
                int eq = word.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("network_args: '" + word + "' is not key=value");
                }
                String key = word.substring(0, eq).trim();
                if (!KNOWN.contains(key)) {
                    throw new IllegalArgumentException("network_args: '" + key + "' is not supported by lora/kohya "
                            + "(supported: conv_dim, conv_alpha, rank_dropout, module_dropout)");
                }
                given.put(key, word.substring(eq + 1).trim());
            }
        }
        int convDim = (int) number(given, "conv_dim", 0, 0, 4096);
        double convAlpha = number(given, "conv_alpha", 1, 0, 1e6);
        double rank = number(given, "rank_dropout", 0, 0, 0.999);
        double module = number(given, "module_dropout", 0, 0, 1);
        return new NetworkArgs(convDim, convAlpha, rank, module, Map.copyOf(given));
    }

    private static double number(Map<String, String> given, String key, double dflt, double min, double max) {
        String v = given.get(key);
        if (v == null || v.equalsIgnoreCase("None")) {
            return dflt;
        }
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("network_args: " + key + " needs a number, not '" + v + "'");
        }
        if (!(d >= min && d <= max)) {
            throw new IllegalArgumentException("network_args: " + key + " = " + v + " is outside [" + min + ", " + max
                    + "]");
        }
        return d;
    }
}
