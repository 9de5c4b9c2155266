package dev.easel.core.osgi;

import java.util.Optional;

/** A check a bundle file must pass before the host installs it. */
@FunctionalInterface
public interface BundleVerifier {
    /** Empty to accept, or the reason to refuse. */
    Optional<String> check(BundleFile file);
}
