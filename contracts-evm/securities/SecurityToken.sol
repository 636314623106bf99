// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EligibilityRegistry} from "./EligibilityRegistry.sol";

/**
 * @title SecurityToken
 * @notice A permissioned security (a tokenized bond or share) in the way of ERC-3643: only investors in the
 * EligibilityRegistry may hold it, every transfer passes the compliance check, and an agent issues, redeems,
 * pauses and freezes. The ISIN and the units (decimals) are fixed at deployment.
 *
 * Delivery versus payment goes through a custodian contract (the HashTimeLock) that holds the securities in
 * escrow between lock and claim. The custodian cannot see the buyer when it takes the securities, so the
 * seller first calls approveDelivery(custodian, buyer, amount): the token checks the final delivery
 * seller -> buyer there, records both as parties of deliveries through that custodian and approves the
 * custodian for the amount. The deposit into the custodian (the lock) then needs that commitment, and a
 * release from the custodian (the claim to the buyer, or the refund to the seller) to a recorded party is
 * never refused: not by pause, freeze or a later removal from the registry. So a delivery is refused
 * before anything is locked, or it settles one way or the other; never locked and then rejected.
 *
 * canTransfer and deliveryRefusal answer with the very checks a transfer and approveDelivery run
 * (one function, `_assess`), so a pre-check can never disagree with the delivery.
 */
contract SecurityToken is ERC20, Pausable, AccessControl {
    /// @notice Issues, redeems, pauses and freezes.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    /// @notice Why a transfer would be refused; None when it would go through.
    enum Refusal {
        None,
        TokenPaused,
        AmountZero,
        SenderNotEligible,
        ReceiverNotEligible,
        SenderFrozen,
        ReceiverFrozen,
        InsufficientUnfrozenBalance,
        DeliveryNotApproved,
        ReleaseToNonParty,
        NotACustodian
    }

    /// @notice How a transfer moves securities: between investors, into a custodian, or out of one.
    enum Route {
        Transfer,
        Deposit,
        Release
    }

    EligibilityRegistry public immutable registry;
    uint8 private immutable _decimals;
    string private _isin;

    mapping(address holder => bool) private _frozen;
    mapping(address holder => uint256) private _frozenTokens;
    /// Units a holder approved for delivery through a custodian and has not deposited yet.
    mapping(address holder => mapping(address custodian => uint256)) private _approvedDeliveries;
    /// Addresses that were checked as seller or buyer of a delivery through a custodian.
    mapping(address custodian => mapping(address party => bool)) private _deliveryParties;

    /// @notice The compliance check refused the transfer (see Refusal).
    error TransferRefused(address from, address to, uint256 amount, Refusal reason);
    /// @notice An ISIN is 12 characters (2 letters, 9 alphanumerics, a check digit).
    error IsinInvalid(string isin);
    /// @notice Units of a security are whole or decimal fractions up to 18 places.
    error DecimalsInvalid(uint8 decimals);
    /// @notice Only an investor can receive new securities.
    error IssueToNonInvestor(address to);
    /// @notice Securities in a custodian's escrow are not the agent's to burn or freeze.
    error CustodianBalanceUntouchable(address custodian);
    /// @notice More tokens than the holder has would be frozen, or more unfrozen than are frozen.
    error FrozenAmountInvalid(address holder, uint256 amount, uint256 frozen, uint256 balance);

    event DeliveryApproved(address indexed seller, address indexed custodian, address indexed buyer, uint256 amount);
    event AddressFrozen(address indexed holder, bool frozen, address indexed agent);
    event TokensFrozen(address indexed holder, uint256 amount);
    event TokensUnfrozen(address indexed holder, uint256 amount);
    event Issued(address indexed to, uint256 amount);
    event Redeemed(address indexed from, uint256 amount);

    /// @param name_ ERC-20 name (e.g. "Kazakhstan MEKAM 2029").
    /// @param symbol_ ERC-20 symbol.
    /// @param isin_ The security's ISIN (12 characters; the check digit is verified by the deployer).
    /// @param decimals_ Decimal places of one unit (0 for whole bonds).
    /// @param registry_ Who may hold the security.
    /// @param admin Grants and revokes the agent role.
    /// @param agent The first agent.
    constructor(
        string memory name_,
        string memory symbol_,
        string memory isin_,
        uint8 decimals_,
        EligibilityRegistry registry_,
        address admin,
        address agent
    ) ERC20(name_, symbol_) {
        if (bytes(isin_).length != 12) revert IsinInvalid(isin_);
        if (decimals_ > 18) revert DecimalsInvalid(decimals_);
        _isin = isin_;
        _decimals = decimals_;
        registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, agent);
    }

    /// @notice The security's ISIN.
    function isin() external view returns (string memory) {
        return _isin;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    // ---- compliance ----

    /// @notice What a transfer of `amount` from `from` to `to` would do now: None, or why it is refused.
    /// @param from The sender.
    /// @param to The receiver.
    /// @param amount Units.
    function canTransfer(address from, address to, uint256 amount) external view returns (Refusal) {
        (Refusal refusal,) = _assess(from, to, amount);
        return refusal;
    }

    /// @notice What approveDelivery(custodian, buyer, amount) called by `seller` would do now.
    /// @param seller The holder delivering.
    /// @param custodian The escrow contract (the HashTimeLock).
    /// @param buyer The holder receiving.
    /// @param amount Units.
    function deliveryRefusal(address seller, address custodian, address buyer, uint256 amount)
        public
        view
        returns (Refusal)
    {
        if (!registry.isCustodian(custodian)) return Refusal.NotACustodian;
        if (!registry.isInvestor(buyer)) return Refusal.ReceiverNotEligible;
        (Refusal refusal,) = _assess(seller, buyer, amount);
        return refusal;
    }

    /// @notice Whether `party` was checked as seller or buyer of a delivery through `custodian` (releases
    /// to it from the custodian are never refused).
    function isDeliveryParty(address custodian, address party) external view returns (bool) {
        return _deliveryParties[custodian][party];
    }

    /// @notice Units `holder` approved for delivery through `custodian` and has not deposited yet.
    function approvedDelivery(address holder, address custodian) external view returns (uint256) {
        return _approvedDeliveries[holder][custodian];
    }

    /// @notice Prepares a delivery of `amount` from the caller to `buyer` through `custodian`: checks that the
    /// delivery caller -> buyer passes compliance now, records both as parties of deliveries through the
    /// custodian and approves the custodian to take `amount` (on top of any allowance it has).
    /// @param custodian A registered custodian (the HashTimeLock).
    /// @param buyer The investor the custodian will deliver to.
    /// @param amount Units.
    function approveDelivery(address custodian, address buyer, uint256 amount) external {
        Refusal refusal = deliveryRefusal(msg.sender, custodian, buyer, amount);
        if (refusal != Refusal.None) revert TransferRefused(msg.sender, buyer, amount, refusal);
        _approvedDeliveries[msg.sender][custodian] += amount;
        _deliveryParties[custodian][msg.sender] = true;
        _deliveryParties[custodian][buyer] = true;
        _approve(msg.sender, custodian, allowance(msg.sender, custodian) + amount);
        emit DeliveryApproved(msg.sender, custodian, buyer, amount);
    }

    /// The one compliance check: transfers, canTransfer, deliveryRefusal and approveDelivery all call it.
    function _assess(address from, address to, uint256 amount) private view returns (Refusal, Route) {
        if (amount == 0) return (Refusal.AmountZero, Route.Transfer);
        // Out of escrow: the delivery was checked when it was approved; nothing may strand it now.
        if (_deliveryParties[from][to]) {
            // Only the custodian's balance can stop a release (so canTransfer still answers exactly).
            if (balanceOf(from) < amount) return (Refusal.InsufficientUnfrozenBalance, Route.Release);
            return (Refusal.None, Route.Release);
        }
        if (registry.isCustodian(from)) return (Refusal.ReleaseToNonParty, Route.Release);
        if (paused()) return (Refusal.TokenPaused, Route.Transfer);
        if (!registry.isInvestor(from)) return (Refusal.SenderNotEligible, Route.Transfer);
        if (_frozen[from]) return (Refusal.SenderFrozen, Route.Transfer);
        if (_unfrozenBalance(from) < amount) return (Refusal.InsufficientUnfrozenBalance, Route.Transfer);
        if (registry.isCustodian(to)) {
            if (_approvedDeliveries[from][to] < amount) return (Refusal.DeliveryNotApproved, Route.Deposit);
            return (Refusal.None, Route.Deposit);
        }
        if (!registry.isInvestor(to)) return (Refusal.ReceiverNotEligible, Route.Transfer);
        if (_frozen[to]) return (Refusal.ReceiverFrozen, Route.Transfer);
        return (Refusal.None, Route.Transfer);
    }

    function _unfrozenBalance(address holder) private view returns (uint256) {
        uint256 balance = balanceOf(holder);
        uint256 frozen = _frozenTokens[holder];
        return balance > frozen ? balance - frozen : 0;
    }

    function _update(address from, address to, uint256 value) internal override {
        // Issue and redeem are the agent's (checked in issue and redeem); every other move is assessed.
        if (from != address(0) && to != address(0)) {
            (Refusal refusal, Route route) = _assess(from, to, value);
            if (refusal != Refusal.None) revert TransferRefused(from, to, value, refusal);
            if (route == Route.Deposit) _approvedDeliveries[from][to] -= value;
        }
        super._update(from, to, value);
    }

    // ---- agent ----

    /// @notice Issues `amount` new units to investor `to`.
    function issue(address to, uint256 amount) external onlyRole(AGENT_ROLE) whenNotPaused {
        if (!registry.isInvestor(to)) revert IssueToNonInvestor(to);
        _mint(to, amount);
        emit Issued(to, amount);
    }

    /// @notice Redeems (burns) `amount` units held by `from` (never a custodian's escrow).
    function redeem(address from, uint256 amount) external onlyRole(AGENT_ROLE) {
        if (registry.isCustodian(from)) revert CustodianBalanceUntouchable(from);
        _burn(from, amount);
        uint256 frozen = _frozenTokens[from];
        uint256 balance = balanceOf(from);
        if (frozen > balance) _frozenTokens[from] = balance;
        emit Redeemed(from, amount);
    }

    /// @notice Stops every transfer between investors and every new delivery; escrowed ones still settle.
    function pause() external onlyRole(AGENT_ROLE) {
        _pause();
    }

    /// @notice Restarts transfers.
    function unpause() external onlyRole(AGENT_ROLE) {
        _unpause();
    }

    /// @notice Freezes or unfreezes every unit of `holder` (it can neither send nor receive).
    function setAddressFrozen(address holder, bool frozen) external onlyRole(AGENT_ROLE) {
        if (registry.isCustodian(holder)) revert CustodianBalanceUntouchable(holder);
        _frozen[holder] = frozen;
        emit AddressFrozen(holder, frozen, msg.sender);
    }

    /// @notice Freezes `amount` of `holder`'s units (they cannot be sent until unfrozen).
    function freezePartialTokens(address holder, uint256 amount) external onlyRole(AGENT_ROLE) {
        if (registry.isCustodian(holder)) revert CustodianBalanceUntouchable(holder);
        uint256 frozen = _frozenTokens[holder] + amount;
        if (frozen > balanceOf(holder)) revert FrozenAmountInvalid(holder, amount, _frozenTokens[holder], balanceOf(holder));
        _frozenTokens[holder] = frozen;
        emit TokensFrozen(holder, amount);
    }

    /// @notice Unfreezes `amount` of `holder`'s frozen units.
    function unfreezePartialTokens(address holder, uint256 amount) external onlyRole(AGENT_ROLE) {
        uint256 frozen = _frozenTokens[holder];
        if (amount > frozen) revert FrozenAmountInvalid(holder, amount, frozen, balanceOf(holder));
        _frozenTokens[holder] = frozen - amount;
        emit TokensUnfrozen(holder, amount);
    }

    /// @notice Whether every unit of `holder` is frozen.
    function isFrozen(address holder) external view returns (bool) {
        return _frozen[holder];
    }

    /// @notice Units of `holder` frozen by the agent.
    function frozenTokens(address holder) external view returns (uint256) {
        return _frozenTokens[holder];
    }
}
