package dev.easel.core.merge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-block values of one parameter, either as a list in {@link BlockLayout} order (what {@code --block-weights}
 * and SuperMerger's MBW strings give) or by block name (recipes: {@code {"IN04": 0.2, "OUT11": 1}}; blocks not
 * named keep the parameter's plain value).
 *
 * @param values values in layout order, or empty
 * @param named  values by block name, or empty
 */
public record BlockWeights(List<Double> values, Map<String, Double> named) {
    public BlockWeights {
        values = List.copyOf(Objects.requireNonNullElse(values, List.of()));
        named = Map.copyOf(Objects.requireNonNullElse(named, Map.of()));
        if (values.isEmpty() == named.isEmpty()) {
            throw new IllegalArgumentException("block weights need either a list of values or values by block name");
        }
    }

    /** Values in layout order. */
    public static BlockWeights ofList(List<Double> values) {
        return new BlockWeights(values, Map.of());
    }

    /** Parses {@code "0.1,0.2,..."}. */
    public static BlockWeights parse(String text) {
        String[] parts = text.split(",");
        java.util.List<Double> out = new java.util.ArrayList<>();
        for (String p : parts) {
            try {
                out.add(Double.parseDouble(p.trim()));
            } catch (NumberFormatException e) {
                throw new MergeException("block weight '" + p.trim() + "' is not a number (in '" + text + "')");
            }
        }
        return ofList(out);
    }

    /** Values by block name. */
    public static BlockWeights ofNamed(Map<String, Double> named) {
        return new BlockWeights(List.of(), named);
    }

    /**
     * The values by block for a layout.
     *
     * @throws MergeException if a list has the wrong length or a name is not a block of the layout
     */
    public Map<String, Double> resolve(BlockLayout layout, String parameter) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (!values.isEmpty()) {
            if (values.size() != layout.size()) {
                throw new MergeException("block weights for '" + parameter + "' have " + values.size()
                        + " values; " + layout + " models need " + layout.size() + " (" + layout.blocks().get(0)
                        + ", " + layout.blocks().get(1) + " .. " + layout.lastOutputBlock() + ")");
            }
            for (int i = 0; i < values.size(); i++) {
                out.put(layout.blocks().get(i), values.get(i));
            }
            return out;
        }
        for (Map.Entry<String, Double> e : named.entrySet()) {
            String block = e.getKey().trim().toUpperCase(java.util.Locale.ROOT);
            if (block.equals("MID") || block.equals("M0")) {
                block = "M00";
            }
            if (!layout.blocks().contains(block)) {
                throw new MergeException("unknown block '" + e.getKey() + "' in the block weights for '" + parameter
                        + "'; " + layout + " blocks are " + String.join(", ", layout.blocks()));
            }
            out.put(block, e.getValue());
        }
        return out;
    }
}
