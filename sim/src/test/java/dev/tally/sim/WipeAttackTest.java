package dev.tally.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.protocol.ChonkyMessage;
import dev.tally.protocol.LeaderProposal;
import dev.tally.protocol.ReplicaCommit;
import dev.tally.protocol.ReplicaTimeout;
import dev.tally.protocol.Signed;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's attack on a validator that lost its data, played out on the simulator: n = 6, one faulty validator Z
 * and one wiped validator W, which together exceed f = 1, so only agreement is promised.
 *
 * <p>Block B is proposed in view 3 (led by H3); H4 never gets the proposal. The commit votes of H1, H2, H3, Z and W
 * reach H1 only, which finalizes B and is then cut off from everyone (as good as crashed, its blocks out of reach).
 * W crashes right after voting and loses its data directory. View 3 can now end only by a timeout QC of H2, H3
 * (high vote B), H4, Z (which hides its high vote B) and W: if W signs its timeout vote without the high vote it
 * lost, B weighs 2, below the subquorum of 3, the high QC is below B, and the next leaders propose another block at
 * B's height, which H2, H3, H4, Z and W make final (with the old guard: in view 5).
 */
class WipeAttackTest {
    private static final int Z = 0;
    private static final int H1 = 1;
    private static final int H4 = 4;
    private static final int W = 5;
    private static final long V = 3;

    /** The attack's network, and Z's lie. */
    private static final class Attack implements Script {
        private boolean wiped;

        @Override
        public boolean passes(int from, int to, Signed<? extends ChonkyMessage> message, SimWorld sim) {
            if (from == H1 && (message == null || message.message().view().number() > V)) {
                return false; // H1 once it holds B's QC, and block sync from it
            }
            if (message == null || message.message().view().number() != V) {
                return true;
            }
            return switch (message.message()) {
                case LeaderProposal p -> to != H4;
                case ReplicaCommit c -> {
                    if (from == W && !wiped) {
                        wiped = true;
                        sim.wipeSoon(W);
                    }
                    yield to == H1;
                }
                default -> true;
            };
        }

        @Override
        public Behaviour behaviour(int validator, Behaviour planned) {
            if (validator != Z) {
                return planned;
            }
            // Z votes like everyone, but its timeout votes never report the high vote it has.
            return (Behaviour.BroadcastRewriter) (m, self, sim, into) -> {
                Signed<? extends ChonkyMessage> sent = m;
                if (m.message() instanceof ReplicaTimeout t && t.highVote().isPresent()) {
                    sent = Signed.sign(self.key, new ReplicaTimeout(t.view(), Optional.empty(), t.highQc()));
                }
                into.add(new Action.SendTo(sim.allNodes(), sent));
            };
        }
    }

    @Test
    void aWipedValidatorAndAFaultyOneCannotFinalizeTwoBlocksAtOneHeight() {
        // Z runs as the one Byzantine validator (its planned kind is replaced by the script); no random faults, and
        // stabilisation only after the attack, so the run does not end as soon as a few blocks are final.
        Scenario scenario = Scenario.builder()
                .seed(1)
                .validators(6)
                .byzantine(Byzantine.WITHHOLDER, 1)
                .faults(Faults.builder().gstMillis(20_000).build())
                .build();
        assertThat(scenario.safetyExpected()).isTrue();
        Simulation sim = new Simulation(scenario, false, new Attack());
        SimResult result = sim.run();

        assertThat(result.violation())
                .as("%s", String.join("\n", result.trace()))
                .isEmpty();
        assertThat(result.blocksFinalized()).as("B, block 2, was final at H1").isEqualTo(2);
        assertThat(result.lastView())
                .as("view 3 cannot end without W's timeout vote, which it does not sign")
                .isEqualTo(V + 1);
        assertThat(sim.replicaOf(W).firstVotingView())
                .as("W abstains past every view it may have voted in")
                .isGreaterThan(V);
        assertThat(sim.replicaOf(W).view()).isEqualTo(V);
    }
}
