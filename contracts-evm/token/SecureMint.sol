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
 */
abstract contract SecureMint {
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

    /// @notice `collateral` is `balance` less the redemptions the statement does not show as paid out.
    event CollateralStatementAccepted(
        uint256 balance, uint256 paidOut, uint256 indexed height, uint256 timestamp, uint256 collateral
    );
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
        return supply >= _collateral ? 0 : _collateral - supply;
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
    }

    function _buildCollateralDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, block.chainid, address(this)));
    }
}
