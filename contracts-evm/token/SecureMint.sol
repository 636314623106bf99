// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/**
 * @title SecureMint
 * @notice Keeps the DT collateral statement that bounds the token supply. The DT ledger operator signs
 * EIP-712 statements of the segregated wallet (account, balance in tiyn, tiyn ever paid out of it, ledger
 * height, unix timestamp) under the domain {name: "Digital Tenge Collateral", version: "1", chainId,
 * verifyingContract: this}. Anyone may submit a statement; it is accepted only if the configured signer
 * signed it, it names the segregated account, and its ledger height is above the last accepted one (or
 * equal, with a newer timestamp: the same ledger state, refreshed).
 * Redemptions the statement does not show as paid out are taken off its balance, and every later
 * redemption is taken off at once: the collateral is what stays in the wallet once every burned token is
 * paid, whichever statement is relayed when. A mint then needs the latest statement to be no older than
 * `maxStatementAge` and `totalSupply + amount <= collateral`.
 * When the pool serves several chains, the operator also signs issuance allotments: one cumulative issuance
 * limit per chain, only ever rising, adding up to at most the pool; each mint then also needs
 * `issued + amount <= limit` on its chain (docs/contracts.md, "One pool, several chains").
 */
abstract contract SecureMint {
    /// @notice One chain's entry in an issuance allotment: the token on that chain and its issuance limit.
    struct ChainAllotment {
        uint256 chainId;
        address token;
        uint256 issuanceLimit;
    }

    /// @notice The DT ledger operator's allotment of one collateral pool to the chains that issue against it.
    /// Limits are cumulative (tiyn a chain may ever issue, net of minter burns) and only ever rise, so a
    /// chain holding an older allotment can only issue less. Their sum is at most `credited + moved`.
    struct IssuanceAllotment {
        string account;
        uint256 sequence;
        uint256 credited;
        uint256 moved;
        uint256 height;
        uint256 timestamp;
        ChainAllotment[] chains;
    }

    /// @notice The statement as signed by the DT ledger operator.
    struct CollateralStatement {
        string account;
        uint256 balance;
        uint256 paidOut;
        uint256 height;
        uint256 timestamp;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant STATEMENT_TYPEHASH =
        keccak256("CollateralStatement(string account,uint256 balance,uint256 paidOut,uint256 height,uint256 timestamp)");
    bytes32 private constant DOMAIN_NAME_HASH = keccak256("Digital Tenge Collateral");
    bytes32 private constant DOMAIN_VERSION_HASH = keccak256("1");
    // One allotment covers every chain of the pool, so its domain names no chain: each token takes its own
    // entry by (chain id, token address), which binds the chain inside the signed message.
    bytes32 private constant ALLOTMENT_DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version)");
    bytes32 private constant ALLOTMENT_DOMAIN_NAME_HASH = keccak256("Digital Tenge Issuance Allotment");
    bytes32 private constant CHAIN_ALLOTMENT_TYPEHASH =
        keccak256("ChainAllotment(uint256 chainId,address token,uint256 issuanceLimit)");
    bytes32 private constant ALLOTMENT_TYPEHASH = keccak256(
        "IssuanceAllotment(string account,uint256 sequence,uint256 credited,uint256 moved,uint256 height,uint256 timestamp,ChainAllotment[] chains)ChainAllotment(uint256 chainId,address token,uint256 issuanceLimit)"
    );

    /// @notice How far a statement's timestamp may run ahead of chain time (clock drift between the DT
    /// ledger and the chain); beyond that the statement is refused.
    uint256 public constant STATEMENT_CLOCK_TOLERANCE = 300;

    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    // A full slot first, so the packed slot below starts a slot of its own instead of sharing the last
    // role address's.
    uint256 private _statementHeight;

    // One slot, read by every mint and written by every redemption: the collateral (stated balance less
    // redemptions not yet paid out), the statement's timestamp, the freshness window and all tiyn redeemed.
    uint96 private _collateral;
    uint40 private _statementTimestamp;
    uint32 private _maxStatementAge;
    uint88 private _totalRedeemed;

    address private _collateralSigner;
    bytes32 private _segregatedAccountHash;
    string private _segregatedAccount;

    // Redemptions whose payout was refused and which were reversed (re-minted), by redemption id.
    mapping(bytes32 redemptionId => bool) private _reversedRedemptions;

    // One slot, read and written by every mint: tiyn ever issued here (mints less minter burns; redemptions
    // and moves out do not give the room back), this chain's issuance limit from the latest allotment, and
    // whether mints need it (one-way, set by the owner when the pool serves more than this chain).
    uint120 private _issued;
    uint120 private _issuanceLimit;
    bool private _allotmentRequired;

    uint256 private _allotmentSequence;
    uint256 private _totalMovedOut;

    /// @notice The signature is not the configured collateral signer's.
    error CollateralSignatureInvalid();
    /// @notice The statement is about another DT account than the segregated one.
    error CollateralAccountMismatch(string account);
    /// @notice The statement's ledger height is below the last accepted one, or equal without a newer timestamp.
    error CollateralHeightNotIncreasing(uint256 height, uint256 latestHeight);
    /// @notice The statement is older than the last accepted one.
    error CollateralTimestampDecreasing(uint256 timestamp, uint256 latestTimestamp);
    /// @notice The statement's timestamp is too far ahead of chain time.
    error CollateralStatementFromFuture(uint256 timestamp, uint256 chainTime);
    /// @notice The stated balance does not fit the contract's 96-bit collateral field.
    error CollateralBalanceTooLarge(uint256 balance);
    /// @notice The latest statement is older than the maximum age (or there is none): no mint until a
    /// fresh statement arrives.
    error CollateralStatementStale(uint256 statementTimestamp, uint256 maxStatementAge, uint256 chainTime);
    /// @notice The mint would take the supply above the stated collateral.
    error CollateralExceeded(uint256 supplyAfterMint, uint256 collateral);
    /// @notice A configuration value is out of range (zero signer, empty account, zero or huge age).
    error CollateralConfigurationInvalid();
    /// @notice All redemptions together would overflow the 88-bit counter.
    error RedeemedTotalTooLarge(uint256 totalRedeemed);
    /// @notice This redemption was reversed already.
    error RedemptionAlreadyReversed(bytes32 redemptionId);
    /// @notice The statement shows less redeemed-and-unpaid DT than the reversal takes back.
    error RedemptionReversalExceedsUnpaid(uint256 amount, uint256 unpaid);

    /// @notice The allotment is about another DT account than the segregated one.
    error AllotmentAccountMismatch(string account);
    /// @notice The allotment's sequence is not above the last accepted one.
    error AllotmentSequenceNotIncreasing(uint256 sequence, uint256 latestSequence);
    /// @notice The allotment's chains are not in strictly increasing chain id order.
    error AllotmentChainsUnordered(uint256 chainId);
    /// @notice The limits add up to more than the pool: credited plus moved.
    error AllotmentExceedsPool(uint256 limits, uint256 pool);
    /// @notice The allotment has no entry for this chain.
    error AllotmentMissingChain(uint256 chainId);
    /// @notice This chain's entry names another token.
    error AllotmentTokenMismatch(address token);
    /// @notice A limit does not fit the contract's 120-bit field.
    error AllotmentLimitTooLarge(uint256 issuanceLimit);
    /// @notice The signature is not the configured collateral signer's.
    error AllotmentSignatureInvalid();
    /// @notice The allotment's timestamp is too far ahead of chain time.
    error AllotmentFromFuture(uint256 timestamp, uint256 chainTime);
    /// @notice The mint would take this chain's issuance above its allotted limit.
    error IssuanceLimitExceeded(uint256 issuedAfterMint, uint256 issuanceLimit);
    /// @notice Moves between chains need issuance allotments on this token.
    error MovesNeedAllotments();
    /// @notice A move must name another chain and a receiver.
    error MoveDestinationInvalid(uint256 destinationChainId, address recipient);

    /// @notice `collateral` is `balance` less the redemptions the statement does not show as paid out.
    event CollateralStatementAccepted(
        uint256 balance, uint256 paidOut, uint256 indexed height, uint256 timestamp, uint256 collateral
    );
    /// @notice This chain may issue up to `issuanceLimit` tiyn in all (net of minter burns).
    event IssuanceAllotmentAccepted(uint256 indexed sequence, uint256 issuanceLimit, uint256 credited, uint256 moved);
    /// @notice From now on every mint needs this chain's limit in an accepted allotment.
    event IssuanceAllotmentsRequired();
    /// @notice `holder` burned `amount` here to receive as much on `destinationChainId`, at `recipient`.
    event MovedOut(address indexed holder, uint256 amount, uint256 indexed destinationChainId, address recipient);
    event CollateralSignerChanged(address indexed newSigner);
    event SegregatedAccountChanged(string account);
    event MaxStatementAgeChanged(uint256 maxStatementAge);

    constructor(address signer, string memory segregatedAccount_, uint256 maxStatementAge_) {
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildCollateralDomainSeparator();
        _setCollateralSigner(signer);
        _setSegregatedAccount(segregatedAccount_);
        _setMaxStatementAge(maxStatementAge_);
    }

    /// @notice Submits a statement signed by the DT ledger operator; anyone may relay one.
    /// @param statement The statement (account, balance and paid out in tiyn, ledger height, unix seconds).
    /// @param signature The collateral signer's EIP-712 signature (65-byte ECDSA or ERC-1271).
    function submitCollateralStatement(CollateralStatement calldata statement, bytes calldata signature) external {
        _acceptStatement(statement, signature);
    }

    /// @notice Submits an issuance allotment signed by the DT ledger operator; anyone may relay one.
    /// @param allotment The allotment of the pool to its chains, with an entry for this chain and token.
    /// @param signature The collateral signer's EIP-712 signature (65-byte ECDSA or ERC-1271).
    function submitIssuanceAllotment(IssuanceAllotment calldata allotment, bytes calldata signature) external {
        _acceptAllotment(allotment, signature);
    }

    /// @notice Tiyn ever issued on this chain (mints less minter burns), this chain's issuance limit, the
    /// latest accepted allotment's sequence, and whether mints need the limit.
    function issuance()
        external
        view
        returns (uint256 issued, uint256 issuanceLimit, uint256 sequence, bool required)
    {
        return (_issued, _issuanceLimit, _allotmentSequence, _allotmentRequired);
    }

    /// @notice Tiyn ever burned on this chain to move to another chain.
    function totalMovedOut() external view returns (uint256) {
        return _totalMovedOut;
    }

    /// @notice The EIP-712 domain separator of issuance allotments (no chain: one allotment covers them all).
    function allotmentDomainSeparator() public pure returns (bytes32) {
        return keccak256(abi.encode(ALLOTMENT_DOMAIN_TYPEHASH, ALLOTMENT_DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH));
    }

    /// @notice The EIP-712 digest the collateral signer signs for `allotment`.
    /// @param allotment The allotment to hash.
    function issuanceAllotmentDigest(IssuanceAllotment calldata allotment) public pure returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(allotmentDomainSeparator(), _allotmentStructHash(allotment));
    }

    /// @notice The collateral in tiyn (the latest statement's balance less every redemption not paid out
    /// by then or made since), that statement's DT ledger height and its unix timestamp.
    function latestCollateralStatement() external view returns (uint256 balance, uint256 height, uint256 timestamp) {
        return (_collateral, _statementHeight, _statementTimestamp);
    }

    /// @notice Tiyn redeemed since deployment or since the segregated account last changed.
    function totalRedeemed() external view returns (uint256) {
        return _totalRedeemed;
    }

    /// @notice Whether the redemption `redemptionId` was reversed (its amount minted back to the holder).
    /// @param redemptionId keccak256(abi.encode(redeem transaction hash, log index)) of its Redeemed log.
    function isRedemptionReversed(bytes32 redemptionId) external view returns (bool) {
        return _reversedRedemptions[redemptionId];
    }

    /// @notice The address whose signatures the contract accepts on collateral statements.
    function collateralSigner() external view returns (address) {
        return _collateralSigner;
    }

    /// @notice The DT digital account of the segregated collateral wallet.
    function segregatedAccount() external view returns (string memory) {
        return _segregatedAccount;
    }

    /// @notice The maximum age, in seconds, of the latest statement at mint time.
    function maxStatementAge() external view returns (uint256) {
        return _maxStatementAge;
    }

    /// @notice The EIP-712 domain separator of collateral statements (differs from the permit domain).
    function collateralDomainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildCollateralDomainSeparator();
    }

    /// @notice The EIP-712 digest the collateral signer signs for `statement`.
    /// @param statement The statement to hash.
    function collateralStatementDigest(CollateralStatement calldata statement) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                STATEMENT_TYPEHASH,
                keccak256(bytes(statement.account)),
                statement.balance,
                statement.paidOut,
                statement.height,
                statement.timestamp
            )
        );
        return MessageHashUtils.toTypedDataHash(collateralDomainSeparator(), structHash);
    }

    /// @notice How much can be minted right now: zero when the latest statement is stale.
    function mintableAmount() public view returns (uint256) {
        if (!_statementIsFresh()) return 0;
        uint256 supply = _currentSupply();
        uint256 mintable = supply >= _collateral ? 0 : _collateral - supply;
        if (_allotmentRequired) {
            uint256 room = _issued >= _issuanceLimit ? 0 : _issuanceLimit - _issued;
            if (room < mintable) mintable = room;
        }
        return mintable;
    }

    /// @dev The supply the collateral must cover; the token returns its total supply.
    function _currentSupply() internal view virtual returns (uint256);

    /// @dev Reverts unless a fresh statement covers `supplyAfterMint`.
    function _requireCollateralCovers(uint256 supplyAfterMint) internal view {
        uint256 collateral = _collateral;
        if (!_statementIsFresh()) {
            revert CollateralStatementStale(_statementTimestamp, _maxStatementAge, block.timestamp);
        }
        if (supplyAfterMint > collateral) revert CollateralExceeded(supplyAfterMint, collateral);
    }

    /// @dev Counts a mint of `amount` as issued here; with allotments required it must stay within the limit.
    function _recordIssuance(uint256 amount) internal {
        uint256 issued = uint256(_issued) + amount;
        uint256 limit = _issuanceLimit;
        if (_allotmentRequired && issued > limit) revert IssuanceLimitExceeded(issued, limit);
        // The supply bounds what is issued (every unit was issued here), and it fits 96 bits of collateral
        // when allotments are off; with them on, issued <= limit < 2^120.
        if (issued > type(uint120).max) revert IssuanceLimitExceeded(issued, type(uint120).max);
        _issued = uint120(issued);
    }

    /// @dev A minter burned `amount` of its own: no DT left the wallet, so the room comes back to this chain.
    function _recordMinterBurn(uint256 amount) internal {
        uint120 issued = _issued;
        _issued = amount >= issued ? 0 : issued - uint120(amount);
    }

    /// @dev A holder burned `amount` to move it to another chain; the room here is not given back (the
    /// allotment moves to the destination instead).
    function _recordMoveOut(uint256 amount, uint256 destinationChainId, address recipient) internal {
        if (!_allotmentRequired) revert MovesNeedAllotments();
        if (destinationChainId == 0 || destinationChainId == block.chainid || recipient == address(0)) {
            revert MoveDestinationInvalid(destinationChainId, recipient);
        }
        _totalMovedOut += amount;
        emit MovedOut(msg.sender, amount, destinationChainId, recipient);
    }

    /// @dev One-way: from now on every mint needs this chain's limit in an accepted allotment.
    function _requireAllotments() internal {
        _allotmentRequired = true;
        emit IssuanceAllotmentsRequired();
    }

    /// @dev A redemption burned `amount`: the DT to pay it out leaves the wallet whenever the gateway pays, so
    /// it stops backing the supply now. Statements count it again only once they show it paid out.
    function _recordRedemption(uint256 amount) internal {
        uint256 total = uint256(_totalRedeemed) + amount;
        if (total > type(uint88).max) revert RedeemedTotalTooLarge(total);
        uint96 collateral = _collateral;
        // The 96-bit collateral covers the supply that was burned, so amount fits when it is smaller.
        _collateral = amount >= collateral ? 0 : collateral - uint96(amount);
        _totalRedeemed = uint88(total);
    }

    /// @dev Takes a redemption whose DT was never paid (the payout was refused) out of `totalRedeemed`, once
    /// per id, so it no longer counts as owed. The caller then accepts `statement`, which recomputes the
    /// collateral without it, and mints `amount` back under the usual bound. The statement must show at least
    /// `amount` redeemed and not paid out: DT that left the wallet can never be taken back.
    function _reverseRedemption(bytes32 redemptionId, uint256 amount, CollateralStatement calldata statement) internal {
        if (_reversedRedemptions[redemptionId]) revert RedemptionAlreadyReversed(redemptionId);
        uint256 redeemed = _totalRedeemed;
        uint256 unpaid = redeemed > statement.paidOut ? redeemed - statement.paidOut : 0;
        if (amount > unpaid) revert RedemptionReversalExceedsUnpaid(amount, unpaid);
        _reversedRedemptions[redemptionId] = true;
        // amount <= unpaid <= redeemed < 2^88.
        _totalRedeemed = uint88(redeemed - amount);
    }

    function _statementIsFresh() private view returns (bool) {
        uint256 timestamp = _statementTimestamp;
        // A zero timestamp means no statement since deployment or since the signer or account changed.
        return timestamp != 0 && block.timestamp <= timestamp + _maxStatementAge;
    }

    function _acceptStatement(CollateralStatement calldata statement, bytes calldata signature) internal {
        if (keccak256(bytes(statement.account)) != _segregatedAccountHash) {
            revert CollateralAccountMismatch(statement.account);
        }
        // The DT ledger signs statements without booking anything, so its height moves only with ledger
        // activity: a statement at the last height (same balance, same payouts) is accepted only to refresh the time.
        if (
            statement.height < _statementHeight
                || (statement.height == _statementHeight && statement.timestamp <= _statementTimestamp)
        ) {
            revert CollateralHeightNotIncreasing(statement.height, _statementHeight);
        }
        if (statement.timestamp < _statementTimestamp) {
            revert CollateralTimestampDecreasing(statement.timestamp, _statementTimestamp);
        }
        if (statement.timestamp > block.timestamp + STATEMENT_CLOCK_TOLERANCE) {
            revert CollateralStatementFromFuture(statement.timestamp, block.timestamp);
        }
        if (statement.balance > type(uint96).max) revert CollateralBalanceTooLarge(statement.balance);
        if (!SignatureChecker.isValidSignatureNowCalldata(_collateralSigner, collateralStatementDigest(statement), signature)) {
            revert CollateralSignatureInvalid();
        }
        // Every payout from the segregated wallet pays a redemption, so what was redeemed and not yet paid
        // out by the statement's height is still in its balance and must come off it.
        uint256 redeemed = _totalRedeemed;
        uint256 unpaid = redeemed > statement.paidOut ? redeemed - statement.paidOut : 0;
        uint256 collateral = statement.balance > unpaid ? statement.balance - unpaid : 0;
        _collateral = uint96(collateral);
        // The tolerance check above bounds the timestamp far below 2^40 (year 36812).
        _statementTimestamp = uint40(statement.timestamp);
        _statementHeight = statement.height;
        emit CollateralStatementAccepted(
            statement.balance, statement.paidOut, statement.height, statement.timestamp, collateral
        );
    }

    function _acceptAllotment(IssuanceAllotment calldata allotment, bytes calldata signature) internal {
        if (keccak256(bytes(allotment.account)) != _segregatedAccountHash) {
            revert AllotmentAccountMismatch(allotment.account);
        }
        if (allotment.sequence <= _allotmentSequence) {
            revert AllotmentSequenceNotIncreasing(allotment.sequence, _allotmentSequence);
        }
        if (allotment.timestamp > block.timestamp + STATEMENT_CLOCK_TOLERANCE) {
            revert AllotmentFromFuture(allotment.timestamp, block.timestamp);
        }
        uint256 limits;
        uint256 previousChainId;
        uint256 ownLimit;
        bool found;
        uint256 count = allotment.chains.length;
        for (uint256 i = 0; i < count; ++i) {
            ChainAllotment calldata entry = allotment.chains[i];
            if (entry.chainId <= previousChainId) revert AllotmentChainsUnordered(entry.chainId);
            previousChainId = entry.chainId;
            if (entry.issuanceLimit > type(uint120).max) revert AllotmentLimitTooLarge(entry.issuanceLimit);
            // At most 2^64 entries of < 2^120 each: no overflow.
            limits += entry.issuanceLimit;
            if (entry.chainId == block.chainid) {
                if (entry.token != address(this)) revert AllotmentTokenMismatch(entry.token);
                ownLimit = entry.issuanceLimit;
                found = true;
            }
        }
        if (!found) revert AllotmentMissingChain(block.chainid);
        uint256 pool = allotment.credited + allotment.moved;
        if (limits > pool) revert AllotmentExceedsPool(limits, pool);
        if (!SignatureChecker.isValidSignatureNowCalldata(_collateralSigner, issuanceAllotmentDigest(allotment), signature)) {
            revert AllotmentSignatureInvalid();
        }
        _issuanceLimit = uint120(ownLimit);
        _allotmentSequence = allotment.sequence;
        emit IssuanceAllotmentAccepted(allotment.sequence, ownLimit, allotment.credited, allotment.moved);
    }

    function _allotmentStructHash(IssuanceAllotment calldata allotment) private pure returns (bytes32) {
        uint256 count = allotment.chains.length;
        bytes32[] memory entries = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            ChainAllotment calldata entry = allotment.chains[i];
            entries[i] = keccak256(abi.encode(CHAIN_ALLOTMENT_TYPEHASH, entry.chainId, entry.token, entry.issuanceLimit));
        }
        return keccak256(
            abi.encode(
                ALLOTMENT_TYPEHASH,
                keccak256(bytes(allotment.account)),
                allotment.sequence,
                allotment.credited,
                allotment.moved,
                allotment.height,
                allotment.timestamp,
                keccak256(abi.encodePacked(entries))
            )
        );
    }

    function _setCollateralSigner(address signer) internal {
        if (signer == address(0)) revert CollateralConfigurationInvalid();
        _collateralSigner = signer;
        _forgetCollateral();
        emit CollateralSignerChanged(signer);
    }

    function _setSegregatedAccount(string memory account) internal {
        if (bytes(account).length == 0) revert CollateralConfigurationInvalid();
        _segregatedAccount = account;
        _segregatedAccountHash = keccak256(bytes(account));
        _forgetCollateral();
        // Redemptions are matched with the payouts of one account, counted from its opening.
        _totalRedeemed = 0;
        emit SegregatedAccountChanged(account);
    }

    function _setMaxStatementAge(uint256 maxAge) internal {
        if (maxAge == 0 || maxAge > type(uint32).max) revert CollateralConfigurationInvalid();
        _maxStatementAge = uint32(maxAge);
        emit MaxStatementAgeChanged(maxAge);
    }

    /// @dev A new signer or account makes the old statement meaningless (it may even be forged after a key
    /// compromise), so minting waits for a statement under the new configuration. Heights keep rising.
    function _forgetCollateral() private {
        _collateral = 0;
        _statementTimestamp = 0;
        // The allotment too: the new pool's (or signer's) first allotment must count what this chain issued.
        _issuanceLimit = 0;
    }

    function _buildCollateralDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, block.chainid, address(this)));
    }
}
