// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {HashTimeLock} from "../htlc/HashTimeLock.sol";

/**
 * @title ReentrantToken
 * @notice Test fixture: an ERC-20 that, when the HTLC pays out, calls the HTLC again for the same swap
 * (claim and refund), to show that checks-effects-interactions stops a second payout.
 */
contract ReentrantToken is ERC20 {
    HashTimeLock private _htlc;
    bytes32 private _id;
    HashTimeLock.Terms private _terms;
    bytes private _preimage;
    bool public reentryAttempted;
    bool public reentrySucceeded;

    constructor() ERC20("Reentrant", "REENTER") {
        _mint(msg.sender, 1e18);
    }

    /// @notice Arms the callback for one swap.
    function arm(HashTimeLock htlc, bytes32 id, HashTimeLock.Terms calldata terms, bytes calldata preimage) external {
        _htlc = htlc;
        _id = id;
        _terms = terms;
        _preimage = preimage;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == address(_htlc) && address(_htlc) != address(0) && !reentryAttempted) {
            reentryAttempted = true;
            try _htlc.claim(_id, _terms, _preimage) {
                reentrySucceeded = true;
            } catch {}
            try _htlc.refund(_id, _terms) {
                reentrySucceeded = true;
            } catch {}
        }
    }
}
