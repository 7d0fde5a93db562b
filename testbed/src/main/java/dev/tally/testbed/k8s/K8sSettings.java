package dev.tally.testbed.k8s;

import java.util.regex.Pattern;

/**
 * What {@link K8sManifests} generates: a chain of {@code validators} validators (weight 1 each) in one StatefulSet and
 * {@code fullNodes} full nodes, in {@code namespace}, running {@code image}, each validator with a persistent volume
 * of {@code storage} (a Kubernetes quantity such as {@code 10Gi}).
 */
public record K8sSettings(int validators, int fullNodes, String namespace, String image, String storage, long chainId) {
    /** What a Kubernetes namespace name may be (a DNS label, RFC 1123). */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?");

    public static final String DEFAULT_NAMESPACE = "tally";
    public static final String DEFAULT_STORAGE = "10Gi";

    /** @throws IllegalArgumentException naming the setting that is out of range or malformed */
    public K8sSettings {
        if (validators < 1) {
            throw new IllegalArgumentException("--validators must be at least 1, got " + validators);
        }
        if (fullNodes < 0) {
            throw new IllegalArgumentException("--full-nodes must be at least 0, got " + fullNodes);
        }
        if (!DNS_LABEL.matcher(namespace).matches()) {
            throw new IllegalArgumentException("--namespace must be a DNS label (lower-case letters, digits and '-', "
                    + "at most 63, starting and ending with a letter or digit), got \"" + namespace + "\"");
        }
        if (image.isBlank() || image.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(
                    "--image must be an image reference without spaces, got \"" + image + "\"");
        }
        if (!QUANTITY.matcher(storage).matches()) {
            throw new IllegalArgumentException(
                    "--storage must be a Kubernetes quantity such as 10Gi or 500Mi, got \"" + storage + "\"");
        }
        if (chainId < 0) {
            throw new IllegalArgumentException("--chain-id must be at least 0, got " + chainId);
        }
    }
}
