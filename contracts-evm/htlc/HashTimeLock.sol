// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/**
 * @title HashTimeLock
 * @notice One contract for every hash-time-locked swap leg on this chain. A sender locks an ERC-20 amount
 * for a receiver under a hash-lock H = SHA-256(preimage), the same condition the DT ledger uses, with an
 * expiry in chain time (unix seconds). Before the expiry anyone may claim with the 32-byte preimage and
 * the funds go to the receiver only; from the expiry on anyone may refund and the funds go back to the
 * sender only. The Claimed event publishes the preimage so the other leg can be claimed with it.
 *
 * Storage is one slot per swap: a commitment to the terms (keccak256 of the abi-encoded Terms), so claim
 * and refund take the terms as calldata and the contract checks them against the commitment. A settled
 * swap keeps a marker, so its id can never be locked again.
 *
 * Supported tokens transfer exactly the amount asked (no fee-on-transfer or rebasing tokens).
 */
contract HashTimeLock {
    using SafeERC20 for IERC20;

    /// @notice The terms of one swap, given at lock time and repeated as calldata on claim and refund.
    struct Terms {
        address sender;
        address receiver;
        IERC20 token;
        uint256 amount;
        bytes32 hashLock;
        uint256 expiry;
    }

    /// @notice Where a swap stands.
    enum SwapState {
        Unknown,
        Locked,
        Claimed,
        Refunded
    }

    bytes32 private constant CLAIMED = bytes32(uint256(1));
    bytes32 private constant REFUNDED = bytes32(uint256(2));

    mapping(bytes32 id => bytes32 commitment) private _commitments;

    /// @notice A swap with this id exists already (locked or settled).
    error SwapIdTaken(bytes32 id);
    /// @notice No locked swap has this id.
    error SwapNotLocked(bytes32 id, SwapState state);
    /// @notice The terms given do not match the ones committed at lock time.
    error SwapTermsMismatch(bytes32 id);
    /// @notice Lock arguments are unusable: zero receiver, token, amount or hash-lock.
    error SwapTermsInvalid();
    /// @notice The expiry must be in the future at lock time.
    error ExpiryNotInFuture(uint256 expiry, uint256 chainTime);
    /// @notice The swap expired: it can only be refunded.
    error SwapExpired(bytes32 id, uint256 expiry);
    /// @notice The swap has not expired yet: it cannot be refunded.
    error SwapNotExpired(bytes32 id, uint256 expiry);
    /// @notice Preimages are exactly 32 bytes.
    error PreimageLengthInvalid(uint256 length);
    /// @notice SHA-256 of the preimage is not the hash-lock.
    error PreimageMismatch(bytes32 id);

    event Locked(
        bytes32 indexed id,
        bytes32 indexed hashLock,
        address indexed sender,
        address receiver,
        address token,
        uint256 amount,
        uint256 expiry
    );
    event Claimed(bytes32 indexed id, bytes32 indexed hashLock, address indexed receiver, bytes32 preimage);
    event Refunded(bytes32 indexed id, bytes32 indexed hashLock, address indexed sender);

    /// @notice The id of the swap `sender` locks with `salt`: keccak256(abi.encode(sender, salt)).
    /// A retried lock with the same salt cannot lock twice, and nobody can take another sender's id.
    /// @param sender The account that calls lock.
    /// @param salt Any 32 bytes the sender chooses (for example a hash of its PvP id).
    function swapId(address sender, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(sender, salt));
    }

    /// @notice Locks `amount` of `token` from the caller for `receiver` under `hashLock` until `expiry`.
    /// The caller must have approved this contract for `amount`.
    /// @param salt Chosen by the caller; the id is swapId(msg.sender, salt).
    /// @param receiver The only account that can ever receive the funds by claim.
    /// @param token The ERC-20 token locked.
    /// @param amount The amount locked, in the token's units.
    /// @param hashLock SHA-256 of the 32-byte preimage.
    /// @param expiry Unix time (chain time) from which the swap can no longer be claimed, only refunded.
    /// @return id The swap id.
    function lock(bytes32 salt, address receiver, IERC20 token, uint256 amount, bytes32 hashLock, uint256 expiry)
        external
        returns (bytes32 id)
    {
        if (receiver == address(0) || address(token) == address(0) || amount == 0 || hashLock == bytes32(0)) {
            revert SwapTermsInvalid();
        }
        if (expiry <= block.timestamp) revert ExpiryNotInFuture(expiry, block.timestamp);
        id = swapId(msg.sender, salt);
        if (_commitments[id] != bytes32(0)) revert SwapIdTaken(id);
        _commitments[id] = keccak256(abi.encode(Terms(msg.sender, receiver, token, amount, hashLock, expiry)));
        emit Locked(id, hashLock, msg.sender, receiver, address(token), amount, expiry);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pays a locked swap to its receiver; anyone may submit the preimage before the expiry.
    /// @param id The swap id.
    /// @param terms The swap's terms exactly as locked (see the Locked event).
    /// @param preimage The 32-byte secret whose SHA-256 is the hash-lock.
    function claim(bytes32 id, Terms calldata terms, bytes calldata preimage) external {
        _requireLocked(id, terms);
        if (block.timestamp >= terms.expiry) revert SwapExpired(id, terms.expiry);
        if (preimage.length != 32) revert PreimageLengthInvalid(preimage.length);
        if (sha256(preimage) != terms.hashLock) revert PreimageMismatch(id);
        _commitments[id] = CLAIMED;
        emit Claimed(id, terms.hashLock, terms.receiver, bytes32(preimage));
        terms.token.safeTransfer(terms.receiver, terms.amount);
    }

    /// @notice Returns an expired swap to its sender; anyone may submit it from the expiry on.
    /// @param id The swap id.
    /// @param terms The swap's terms exactly as locked.
    function refund(bytes32 id, Terms calldata terms) external {
        _requireLocked(id, terms);
        if (block.timestamp < terms.expiry) revert SwapNotExpired(id, terms.expiry);
        _commitments[id] = REFUNDED;
        emit Refunded(id, terms.hashLock, terms.sender);
        terms.token.safeTransfer(terms.sender, terms.amount);
    }

    /// @notice The state of swap `id`.
    /// @param id The swap id.
    function swapState(bytes32 id) public view returns (SwapState) {
        bytes32 commitment = _commitments[id];
        if (commitment == bytes32(0)) return SwapState.Unknown;
        if (commitment == CLAIMED) return SwapState.Claimed;
        if (commitment == REFUNDED) return SwapState.Refunded;
        return SwapState.Locked;
    }

    /// @notice Whether `terms` are the ones swap `id` was locked with (and it is still locked).
    /// @param id The swap id.
    /// @param terms The terms to check.
    function matchesLockedTerms(bytes32 id, Terms calldata terms) external view returns (bool) {
        return _commitments[id] == keccak256(abi.encode(terms)) && swapState(id) == SwapState.Locked;
    }

    function _requireLocked(bytes32 id, Terms calldata terms) private view {
        bytes32 commitment = _commitments[id];
        if (commitment == bytes32(0) || commitment == CLAIMED || commitment == REFUNDED) {
            revert SwapNotLocked(id, swapState(id));
        }
        if (commitment != keccak256(abi.encode(terms))) revert SwapTermsMismatch(id);
    }
}
