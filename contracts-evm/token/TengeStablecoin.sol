// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {StablecoinRoles} from "./StablecoinRoles.sol";
import {SecureMint} from "./SecureMint.sol";
import {TransferAuthorization} from "./TransferAuthorization.sol";

/**
 * @title TengeStablecoin
 * @notice An ERC-20 stablecoin backed one to one by Digital Tenge held in a segregated DT wallet.
 * Decimals are 2: one token unit is exactly one tiyn (1/100 KZT), so 1 token = 1 KZT and every amount
 * converts to DT with no rounding. Supply can never exceed the collateral in the latest fresh statement
 * signed by the DT ledger operator (see SecureMint). Redemption burns tokens and names the DT digital
 * account that the gateway pays. Roles, allowances, pause, blocklist, EIP-2612 and EIP-3009 follow the
 * capabilities of Circle's FiatToken v2.2. The contract is not upgradeable (see docs/contracts.md).
 */
contract TengeStablecoin is
    ERC20,
    EIP712,
    Nonces,
    IERC20Permit,
    Pausable,
    StablecoinRoles,
    SecureMint,
    TransferAuthorization
{
    using SafeERC20 for IERC20;

    /// @notice Everything the deployer sets once; roles and collateral settings can change later.
    struct Configuration {
        string name;
        string symbol;
        address owner;
        address masterMinter;
        address pauser;
        address blocklister;
        address rescuer;
        address collateralSigner;
        string segregatedAccount;
        uint256 maxStatementAge;
    }

    /// @dev Enabled flag and remaining allowance share one slot, read once per mint.
    struct Minter {
        bool enabled;
        uint248 allowance;
    }

    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @notice Longest DT digital account id accepted by redeem (bounds the event size).
    uint256 public constant MAX_DT_ACCOUNT_LENGTH = 64;

    mapping(address minter => Minter) private _minters;
    mapping(address account => bool) private _blocklisted;

    /// @notice The caller is not an enabled minter.
    error CallerNotMinter(address caller);
    /// @notice The mint exceeds the minter's remaining allowance.
    error MinterAllowanceExceeded(address minter, uint256 allowance, uint256 amount);
    /// @notice Amounts of mint, burn and redeem must be positive.
    error AmountZero();
    /// @notice The account is blocklisted.
    error AccountBlocklisted(address account);
    /// @notice The zero address cannot be a minter, blocklisted or receive a mint.
    error AddressZero();
    /// @notice The DT digital account named in a redemption is empty or longer than 64 bytes.
    error DtAccountInvalid();
    /// @notice The permit deadline has passed.
    error PermitExpired(uint256 deadline);
    /// @notice The permit signature does not belong to the owner.
    error PermitSignatureInvalid();
    /// @notice An allowance decrease below zero.
    error AllowanceBelowZero(address spender, uint256 allowance, uint256 decrease);

    event MinterConfigured(address indexed minter, uint256 allowance);
    event MinterRemoved(address indexed minter);
    event Mint(address indexed minter, address indexed to, uint256 amount);
    event Burn(address indexed minter, uint256 amount);
    /// @notice A holder burned `amount` tiyn and asks for the same amount of DT paid to `dtAccount`.
    event Redeemed(address indexed holder, uint256 amount, string dtAccount);
    /// @notice A redemption whose DT payout was refused was reversed: `amount` minted back to `holder`.
    event RedemptionReversed(bytes32 indexed redemptionId, address indexed holder, uint256 amount);
    event Blocklisted(address indexed account);
    event UnBlocklisted(address indexed account);
    event Rescued(address indexed token, address indexed to, uint256 amount);

    constructor(Configuration memory config)
        ERC20(config.name, config.symbol)
        EIP712(config.name, "1")
        StablecoinRoles(config.owner, config.masterMinter, config.pauser, config.blocklister, config.rescuer)
        SecureMint(config.collateralSigner, config.segregatedAccount, config.maxStatementAge)
    {}

    modifier notBlocklisted(address account) {
        if (_blocklisted[account]) revert AccountBlocklisted(account);
        _;
    }

    /// @notice Token units are tiyn: 2 decimals, 1 token = 1 KZT = 100 tiyn.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    // ---------------------------------------------------------------- minting

    /// @notice Mints `amount` tiyn to `to`, within the caller's allowance and the fresh collateral.
    /// @param to Receiver, not blocklisted.
    /// @param amount Amount in tiyn, positive.
    /// @return Always true (FiatToken compatibility).
    function mint(address to, uint256 amount) external returns (bool) {
        _mintWithinLimits(to, amount, true);
        return true;
    }

    /// @notice Submits a fresh collateral statement and mints in one transaction.
    /// @param statement The statement signed by the DT ledger operator.
    /// @param signature The signer's EIP-712 signature.
    /// @param to Receiver, not blocklisted.
    /// @param amount Amount in tiyn, positive.
    /// @return Always true.
    function mintWithCollateralStatement(
        CollateralStatement calldata statement,
        bytes calldata signature,
        address to,
        uint256 amount
    ) external returns (bool) {
        _acceptStatement(statement, signature);
        _mintWithinLimits(to, amount, true);
        return true;
    }

    /// @notice Minter only: reverses a redemption whose DT payout was refused, once: takes it out of
    /// `totalRedeemed`, accepts `statement` (which then no longer counts it as owed) and mints `amount` back
    /// to `holder` within the minter's allowance and the collateral, like any mint.
    /// @param statement A fresh statement showing at least `amount` redeemed and not paid out.
    /// @param signature The collateral signer's EIP-712 signature.
    /// @param redemptionId keccak256(abi.encode(redeem transaction hash, log index)) of its Redeemed log.
    /// @param holder The redeemer, who gets the tokens back.
    /// @param amount The redeemed amount in tiyn.
    /// @return Always true.
    function reverseRedemption(
        CollateralStatement calldata statement,
        bytes calldata signature,
        bytes32 redemptionId,
        address holder,
        uint256 amount
    ) external returns (bool) {
        _reverseRedemption(redemptionId, amount, statement);
        _acceptStatement(statement, signature);
        // Not counted as issued: the state is as if the redemption had never happened.
        _mintWithinLimits(holder, amount, false);
        emit RedemptionReversed(redemptionId, holder, amount);
        return true;
    }

    /// @notice Burns `amount` tiyn from the caller, who must be a minter.
    /// @param amount Amount in tiyn, positive, at most the caller's balance.
    function burn(uint256 amount) external {
        if (!_minters[msg.sender].enabled) revert CallerNotMinter(msg.sender);
        if (amount == 0) revert AmountZero();
        _burn(msg.sender, amount);
        _recordMinterBurn(amount);
        emit Burn(msg.sender, amount);
    }

    /// @notice Burns `amount` tiyn from the caller and asks the gateway to pay as much DT to `dtAccount`.
    /// @param amount Amount in tiyn, positive, at most the caller's balance.
    /// @param dtAccount The DT digital account to pay, 1 to 64 bytes.
    function redeem(uint256 amount, string calldata dtAccount) external {
        if (amount == 0) revert AmountZero();
        uint256 length = bytes(dtAccount).length;
        if (length == 0 || length > MAX_DT_ACCOUNT_LENGTH) revert DtAccountInvalid();
        _burn(msg.sender, amount);
        _recordRedemption(amount);
        emit Redeemed(msg.sender, amount, dtAccount);
    }

    /// @notice Burns `amount` tiyn from the caller to receive as much on another chain of the same pool
    /// (the gateway mints it there once the DT ledger has allotted it, after this chain's confirmations).
    /// Needs issuance allotments on this token; the room here is not given back.
    /// @param amount Amount in tiyn, positive, at most the caller's balance.
    /// @param destinationChainId The chain to receive on, not this one.
    /// @param recipient The receiver on the destination chain, not the zero address.
    function moveOut(uint256 amount, uint256 destinationChainId, address recipient) external {
        if (amount == 0) revert AmountZero();
        _recordMoveOut(amount, destinationChainId, recipient);
        _burn(msg.sender, amount);
    }

    /// @notice Master minter only: enables `minter` with a mint allowance (replacing any previous one).
    /// @param minter The minter, not the zero address.
    /// @param allowance How many tiyn it may mint from now on.
    function configureMinter(address minter, uint256 allowance) external onlyMasterMinter whenNotPaused {
        if (minter == address(0)) revert AddressZero();
        uint248 capped = allowance > type(uint248).max ? type(uint248).max : uint248(allowance);
        _minters[minter] = Minter({enabled: true, allowance: capped});
        emit MinterConfigured(minter, capped);
    }

    /// @notice Master minter only: disables `minter` and clears its allowance.
    /// @param minter The minter to remove.
    function removeMinter(address minter) external onlyMasterMinter {
        delete _minters[minter];
        emit MinterRemoved(minter);
    }

    /// @notice Whether `account` is an enabled minter.
    function isMinter(address account) external view returns (bool) {
        return _minters[account].enabled;
    }

    /// @notice The remaining mint allowance of `minter`, in tiyn.
    function minterAllowance(address minter) external view returns (uint256) {
        return _minters[minter].allowance;
    }

    // ---------------------------------------------------------------- administration

    /// @notice Pauser only: stops transfers, mints, burns, redemptions, approvals and authorizations.
    function pause() external onlyPauser {
        _pause();
    }

    /// @notice Pauser only: resumes normal operation.
    function unpause() external onlyPauser {
        _unpause();
    }

    /// @notice Blocklister only: freezes `account` (it can neither send, receive, approve nor be approved).
    /// @param account The account to freeze, not the zero address.
    function blocklist(address account) external onlyBlocklister {
        if (account == address(0)) revert AddressZero();
        _blocklisted[account] = true;
        emit Blocklisted(account);
    }

    /// @notice Blocklister only: unfreezes `account`.
    /// @param account The account to unfreeze.
    function unBlocklist(address account) external onlyBlocklister {
        _blocklisted[account] = false;
        emit UnBlocklisted(account);
    }

    /// @notice Whether `account` is blocklisted.
    function isBlocklisted(address account) external view returns (bool) {
        return _blocklisted[account];
    }

    /// @notice Rescuer only: sends other ERC-20 tokens held by this contract to `to`.
    /// @param token The token to rescue.
    /// @param to The receiver.
    /// @param amount The amount in that token's units.
    function rescueERC20(IERC20 token, address to, uint256 amount) external onlyRescuer {
        token.safeTransfer(to, amount);
        emit Rescued(address(token), to, amount);
    }

    /// @notice Owner only: sets the address whose signatures back mints. Forgets the current statement.
    /// @param signer The DT ledger operator's signing address.
    function setCollateralSigner(address signer) external onlyOwner {
        _setCollateralSigner(signer);
    }

    /// @notice Owner only: sets the segregated DT account statements must name. Forgets the current statement.
    /// @param account The DT digital account id of the segregated wallet.
    function setSegregatedAccount(string calldata account) external onlyOwner {
        _setSegregatedAccount(account);
    }

    /// @notice Owner only, one-way: from now on every mint needs this chain's limit in an accepted issuance
    /// allotment (the pool serves several chains). Call it before configuring any minter on a new chain.
    function requireIssuanceAllotments() external onlyOwner {
        _requireAllotments();
    }

    /// @notice Owner only: sets how old, in seconds, the latest statement may be at mint time.
    /// @param maxAge Seconds, 1 to 2^32 - 1.
    function setMaxStatementAge(uint256 maxAge) external onlyOwner {
        _setMaxStatementAge(maxAge);
    }

    // ---------------------------------------------------------------- ERC-20 and approvals

    /// @notice ERC-20 approve; refused while paused or when either party is blocklisted.
    function approve(address spender, uint256 value)
        public
        override
        whenNotPaused
        notBlocklisted(msg.sender)
        notBlocklisted(spender)
        returns (bool)
    {
        return super.approve(spender, value);
    }

    /// @notice ERC-20 transferFrom; the spender must not be blocklisted either.
    function transferFrom(address from, address to, uint256 value)
        public
        override
        notBlocklisted(msg.sender)
        returns (bool)
    {
        return super.transferFrom(from, to, value);
    }

    /// @notice Raises the caller's allowance for `spender` by `increment`.
    /// @param spender The spender.
    /// @param increment Tiyn to add.
    function increaseAllowance(address spender, uint256 increment)
        external
        whenNotPaused
        notBlocklisted(msg.sender)
        notBlocklisted(spender)
        returns (bool)
    {
        _approve(msg.sender, spender, allowance(msg.sender, spender) + increment);
        return true;
    }

    /// @notice Lowers the caller's allowance for `spender` by `decrement`.
    /// @param spender The spender.
    /// @param decrement Tiyn to remove, at most the current allowance.
    function decreaseAllowance(address spender, uint256 decrement)
        external
        whenNotPaused
        notBlocklisted(msg.sender)
        notBlocklisted(spender)
        returns (bool)
    {
        uint256 current = allowance(msg.sender, spender);
        if (decrement > current) revert AllowanceBelowZero(spender, current, decrement);
        _approve(msg.sender, spender, current - decrement);
        return true;
    }

    // ---------------------------------------------------------------- EIP-2612

    /// @notice EIP-2612 permit with an ECDSA signature (v, r, s).
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        permit(owner, spender, value, deadline, abi.encodePacked(r, s, v));
    }

    /// @notice EIP-2612 permit with a bytes signature: 65-byte ECDSA or ERC-1271 for contract wallets.
    /// @param owner The holder granting the allowance.
    /// @param spender The spender.
    /// @param value The allowance in tiyn.
    /// @param deadline Unix time after which the permit is void.
    /// @param signature The owner's signature.
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature)
        public
        whenNotPaused
        notBlocklisted(owner)
        notBlocklisted(spender)
    {
        if (block.timestamp > deadline) revert PermitExpired(deadline);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) revert PermitSignatureInvalid();
        _approve(owner, spender, value);
    }

    /// @notice The next permit nonce of `owner`.
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @notice The EIP-712 domain separator of permits and transfer authorizations.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _mintWithinLimits(address to, uint256 amount, bool counted) private whenNotPaused {
        Minter memory minter = _minters[msg.sender];
        if (!minter.enabled) revert CallerNotMinter(msg.sender);
        if (_blocklisted[msg.sender]) revert AccountBlocklisted(msg.sender);
        if (to == address(0)) revert AddressZero();
        if (amount == 0) revert AmountZero();
        if (amount > minter.allowance) revert MinterAllowanceExceeded(msg.sender, minter.allowance, amount);
        _requireCollateralCovers(totalSupply() + amount);
        if (counted) _recordIssuance(amount);
        // amount <= allowance < 2^248, so the narrowing is exact.
        _minters[msg.sender].allowance = minter.allowance - uint248(amount);
        _mint(to, amount);
        emit Mint(msg.sender, to, amount);
    }

    /// @dev Every balance change passes here: mint, burn, redeem, transfer and authorizations.
    function _update(address from, address to, uint256 value) internal override {
        _requireNotPaused();
        if (from != address(0) && _blocklisted[from]) revert AccountBlocklisted(from);
        if (to != address(0) && _blocklisted[to]) revert AccountBlocklisted(to);
        super._update(from, to, value);
    }

    function _beforeAuthorization() internal view override {
        _requireNotPaused();
    }

    function _currentSupply() internal view override returns (uint256) {
        return totalSupply();
    }
}
