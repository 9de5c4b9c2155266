package dev.easel.core.sd.sampling;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The samplers, by their CLI names and the names A1111 writes into image parameters. */
public enum SamplerKind {
    DDIM("ddim", "DDIM"),
    EULER("euler", "Euler"),
    EULER_A("euler_a", "Euler a"),
    DPMPP_2M_KARRAS("dpmpp_2m_karras", "DPM++ 2M Karras");

    private final String cliName;
    private final String a1111Name;

    SamplerKind(String cliName, String a1111Name) {
        this.cliName = cliName;
        this.a1111Name = a1111Name;
    }

    public String cliName() {
        return cliName;
    }

    public String a1111Name() {
        return a1111Name;
    }

    /** By CLI name (case-insensitive), else an error listing the names. */
    public static SamplerKind parse(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
        for (SamplerKind k : values()) {
            if (k.cliName.equals(n)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "' (known: " + Arrays.stream(values())
                .map(SamplerKind::cliName).collect(Collectors.joining(", ")) + ")");
    }
}
