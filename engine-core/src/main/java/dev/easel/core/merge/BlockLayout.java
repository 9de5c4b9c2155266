package dev.easel.core.merge;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The block lists users give per-block ("MBW") weights in, as SuperMerger and the block-merge extension number
 * them: SD1/SD2 have 26 slots ({@code BASE, IN00..IN11, M00, OUT00..OUT11}), SDXL has 20
 * ({@code BASE, IN00..IN08, M00, OUT00..OUT08}).
 */
public enum BlockLayout {
    SD1(12),
    SDXL(9);

    private final List<String> names;

    BlockLayout(int blocksPerSide) {
        List<String> n = new ArrayList<>();
        n.add("BASE");
        for (int i = 0; i < blocksPerSide; i++) {
            n.add(String.format("IN%02d", i));
        }
        n.add("M00");
        for (int i = 0; i < blocksPerSide; i++) {
            n.add(String.format("OUT%02d", i));
        }
        this.names = Collections.unmodifiableList(n);
    }

    /** The block names in the order weights are given. */
    public List<String> blocks() {
        return names;
    }

    /** Number of blocks (26 or 20). */
    public int size() {
        return names.size();
    }

    /** The name of the last output block, where the UNet's final {@code out} layers go. */
    public String lastOutputBlock() {
        return names.get(names.size() - 1);
    }
}
