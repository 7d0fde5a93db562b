package dev.tally.cli;

import dev.tally.testbed.k8s.K8sManifests;
import dev.tally.testbed.k8s.K8sSettings;
import dev.tally.testbed.k8s.KeyInstaller;
import dev.tally.testbed.localnet.Localnet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "deploy",
        mixinStandardHelpOptions = true,
        description = "Deployments beyond one machine (DEPLOY.md).",
        subcommands = {DeployCommand.K8s.class, DeployCommand.InstallKeys.class})
final class DeployCommand extends CommandGroup {
    /** The image other commands build ({@code docs/deploy/IMAGE.md}), without its tag. */
    static final String IMAGE_REPOSITORY = "localhost/tally";

    @Command(
            name = "k8s",
            mixinStandardHelpOptions = true,
            description = {
                "Generates a new chain for Kubernetes into --out: its genesis, the nodes' configs and secret keys, and "
                        + "a kustomize base (a StatefulSet of validators, a Deployment per full node, Services, a "
                        + "PodDisruptionBudget) to apply with `kubectl apply -k DIR`.",
                "The Secrets' files (*-keys.yaml) hold the chain's secret keys: they are written readable by their "
                        + "owner only; keep them so (DEPLOY.md, \"Keys\")."
            })
    static final class K8s implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--validators", required = true, paramLabel = "N", description = "Validators.")
        int validators;

        @Option(
                names = "--full-nodes",
                defaultValue = "0",
                paramLabel = "M",
                description = "Full nodes (default: ${DEFAULT-VALUE}).")
        int fullNodes;

        @Option(
                names = "--namespace",
                defaultValue = K8sSettings.DEFAULT_NAMESPACE,
                paramLabel = "NS",
                description = "The Kubernetes namespace (default: ${DEFAULT-VALUE}).")
        String namespace;

        @Option(
                names = "--image",
                paramLabel = "IMAGE",
                description = "The node image (default: " + IMAGE_REPOSITORY + ":<this tally's version>).")
        String image;

        @Option(
                names = "--storage",
                defaultValue = K8sSettings.DEFAULT_STORAGE,
                paramLabel = "SIZE",
                description = "Each validator's persistent volume (default: ${DEFAULT-VALUE}).")
        String storage;

        @Option(
                names = "--chain-id",
                defaultValue = "" + Localnet.CHAIN_ID,
                paramLabel = "ID",
                description = "The genesis' chain id (default: ${DEFAULT-VALUE}).")
        long chainId;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "A new or empty directory.")
        Path out;

        @Override
        public Integer call() throws BadInputException, IOException {
            String tag = DeployCommand.class.getPackage().getImplementationVersion();
            if (image == null && tag == null) {
                throw new BadInputException(
                        "this development build has no version to tag the image with: give --image");
            }
            List<Path> files;
            try {
                K8sSettings settings = new K8sSettings(
                        validators,
                        fullNodes,
                        namespace,
                        image != null ? image : IMAGE_REPOSITORY + ":" + tag,
                        storage,
                        chainId);
                files = K8sManifests.write(settings, out);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("deploy: wrote %d files into %s; apply with: kubectl apply -k %s%n", files.size(), out, out);
            w.flush();
            return 0;
        }
    }

    @Command(
            name = "install-keys",
            mixinStandardHelpOptions = true,
            description = {
                "Copies the secret key files (*.key) of --from into --to, readable by their owner only, as the node "
                        + "requires: the init container of each Kubernetes pod runs it on its Secret volume."
            })
    static final class InstallKeys implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--from", required = true, paramLabel = "DIR", description = "Where the key files are.")
        Path from;

        @Option(names = "--to", required = true, paramLabel = "DIR", description = "Where to copy them.")
        Path to;

        @Override
        public Integer call() throws BadInputException, IOException {
            List<String> names;
            try {
                names = KeyInstaller.install(from, to);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(e.getMessage());
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("install-keys: %s into %s%n", String.join(", ", names), to);
            w.flush();
            return 0;
        }
    }
}
